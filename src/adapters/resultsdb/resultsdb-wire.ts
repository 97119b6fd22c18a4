/** ResultsDB API v2.0 result, as POST /results answers it and GET /results lists it. */
export interface ResultsDbResult {
  id: number;
  outcome: string;
  testcase: { name: string; href?: string; ref_url?: string | null };
  ref_url?: string | null;
  note?: string | null;
  data: Record<string, string[]>;
  submit_time?: string;
  href?: string;
}

export interface ResultsDbList {
  data: ResultsDbResult[];
  next?: string | null;
  prev?: string | null;
}
