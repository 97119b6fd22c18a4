/** Blanks out secrets' values wherever text leaves the process: logs, errors, status output. */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: string[]) {
    // Longest first, so a secret that contains another is blanked whole. Very short values would
    // blank ordinary words; they are not secrets worth the name, and are left.
    const forms = secrets.flatMap((s) => [s, encodeURIComponent(s), JSON.stringify(s).slice(1, -1)]);
    this.secrets = [...new Set(forms)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
    return out;
  }

  get empty(): boolean {
    return this.secrets.length === 0;
  }
}
