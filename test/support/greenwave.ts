/**
 * Results read the way Greenwave reads them (release-engineering/greenwave: greenwave/resources.py
 * ResultsRetriever, conf/subject_types/*.yaml): GET /results/latest per subject-type query, with
 * `_distinct_on` = its DISTINCT_LATEST_RESULTS_ON (scenario, system_architecture, system_variant),
 * and a test case satisfied when it has results and every one of them passed (PASSED or INFO).
 */
export type SubjectType = 'koji_build' | 'redhat-container-image';

/** The result queries of each subject type, as conf/subject_types defines them. */
const QUERIES: Record<SubjectType, Array<(nvr: string) => Record<string, string>>> = {
  koji_build: [
    (nvr) => ({ item: nvr, type: 'koji_build,brew-build' }),
    (nvr) => ({ original_spec_nvr: nvr }),
  ],
  'redhat-container-image': [
    (nvr) => ({ nvr, type: 'redhat-container-image' }),
    (nvr) => ({ item: nvr, type: 'koji_build' }),
  ],
};

const DISTINCT_ON = 'scenario,system_architecture,system_variant';
const PASSING = new Set(['PASSED', 'INFO']);

export interface SeenResult { id: number; outcome: string; scenario: string | null; type: string; item: string }

/** Every latest result Greenwave sees for this subject and test case. */
export async function greenwaveResults(resultsdbApi: string, subjectType: SubjectType, nvr: string, testcase: string): Promise<SeenResult[]> {
  const out: SeenResult[] = [];
  for (const query of QUERIES[subjectType]) {
    const params = new URLSearchParams({ ...query(nvr), _distinct_on: DISTINCT_ON, testcases: testcase });
    const res = await fetch(`${resultsdbApi}/results/latest?${params.toString()}`);
    if (res.status !== 200) throw new Error(`ResultsDB answered ${res.status} to Greenwave's query ${params.toString()}: ${await res.text()}`);
    const body = (await res.json()) as { data: Array<{ id: number; outcome: string; data: Record<string, string[]> }> };
    for (const r of body.data) out.push({ id: r.id, outcome: r.outcome, scenario: r.data.scenario?.[0] ?? null, type: r.data.type?.[0] ?? '', item: r.data.item?.[0] ?? '' });
  }
  return out;
}

/** Greenwave's verdict on one required test case: satisfied, failed, or missing. */
export async function greenwaveVerdict(resultsdbApi: string, subjectType: SubjectType, nvr: string, testcase: string): Promise<'satisfied' | 'failed' | 'missing'> {
  const results = await greenwaveResults(resultsdbApi, subjectType, nvr, testcase);
  if (!results.length) return 'missing';
  return results.every((r) => PASSING.has(r.outcome)) ? 'satisfied' : 'failed';
}
