// Forgiving lookup of items and users by what people type: case, accents, spacing and
// punctuation do not matter ("maroon5" finds "Maroon 5", "amelie" finds "Amélie"),
// MovieLens titles match without their year or with their article in front ("the
// american president" finds "American President, The (1995)"), and a miss answers with
// the closest names instead of nothing.

/** Lowercase letters and digits only, accents removed: the form names are compared in. */
export function normalizeName(name: string): string {
  return name.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

// The forms a label is found by: itself, without a trailing "(1995)", without any
// parenthesised alternative title ("Amelie (Fabuleux destin d'Amélie Poulain, Le)"), and
// with a trailing ", The" / ", A" / ", An" moved to the front.
function nameForms(label: string): string[] {
  const forms = new Set<string>([normalizeName(label)]);
  const withoutYear = label.replace(/\s*\(\d{4}(?:[-–]\d{0,4})?\)\s*$/, "");
  forms.add(normalizeName(withoutYear));
  forms.add(normalizeName(withoutYear.replace(/\s*\([^)]*\)/g, "")));
  const article = withoutYear.match(/^(.*),\s*(The|A|An|Les|La|Le|Il|Das|Der|Die|El)(\s*\(.*\))?$/i);
  if (article) {
    forms.add(normalizeName(`${article[2]} ${article[1]}`));
    forms.add(normalizeName(`${article[2]} ${article[1]}${article[3] ?? ""}`));
  }
  forms.delete("");
  return [...forms];
}

/** The outcome of a lookup: the id found, or the closest candidates to suggest. */
export type NameMatch =
  | { found: true; id: number; label: string; alternatives: number[] }
  | { found: false; query: string; suggestions: { id: number; label: string }[] };

/** An index over labels (item titles, artist names, user ids) for forgiving lookups. */
export class NameIndex {
  private readonly labels: readonly string[];
  private readonly byForm = new Map<string, number[]>();
  private readonly popularity?: ArrayLike<number>;

  /** `popularity` (e.g. users per item) breaks ties between equal names: the most popular wins. */
  constructor(labels: readonly string[], popularity?: ArrayLike<number>) {
    this.labels = labels;
    this.popularity = popularity;
    labels.forEach((label, id) => {
      for (const form of nameForms(label)) {
        const ids = this.byForm.get(form);
        if (ids) ids.push(id); else this.byForm.set(form, [id]);
      }
    });
  }

  /** Finds `query`; on a miss, up to `suggestions` close names (edit distance on the normalized forms, then prefixes). */
  lookup(query: string, { suggestions = 5 } = {}): NameMatch {
    const form = normalizeName(query);
    const ids = form ? this.byForm.get(form) : undefined;
    if (ids && ids.length) {
      const ranked = [...new Set(ids)].sort((a, b) => this.rank(b) - this.rank(a) || a - b);
      return { found: true, id: ranked[0], label: this.labels[ranked[0]], alternatives: ranked.slice(1) };
    }
    return { found: false, query, suggestions: this.closest(form, suggestions) };
  }

  private rank(id: number): number {
    return this.popularity ? this.popularity[id] : 0;
  }

  private closest(form: string, count: number): { id: number; label: string }[] {
    if (!form || count <= 0) return [];
    const budget = Math.max(2, Math.floor(form.length / 3));
    const scored: { id: number; cost: number }[] = [];
    for (const [candidate, ids] of this.byForm) {
      let cost: number;
      if (candidate.startsWith(form) || form.startsWith(candidate)) cost = Math.abs(candidate.length - form.length) > budget ? budget + 0.5 : 0.5;
      else if (Math.abs(candidate.length - form.length) > budget) continue;
      else cost = boundedEditDistance(form, candidate, budget);
      if (cost > budget + 0.5) continue;
      for (const id of ids) scored.push({ id, cost });
    }
    const best = new Map<number, number>();
    for (const { id, cost } of scored) best.set(id, Math.min(best.get(id) ?? Infinity, cost));
    return [...best].sort((a, b) => a[1] - b[1] || this.rank(b[0]) - this.rank(a[0]) || a[0] - b[0])
      .slice(0, count).map(([id]) => ({ id, label: this.labels[id] }));
  }
}

// Levenshtein distance with transpositions, giving up (returning budget + 1) once every
// path costs more than `budget`: most candidates are rejected after a few rows.
function boundedEditDistance(a: string, b: string, budget: number): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let beforePrevious = previous.slice();
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      let cost = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cost = Math.min(cost, beforePrevious[j - 2] + 1);
      current.push(cost);
      rowMin = Math.min(rowMin, cost);
    }
    if (rowMin > budget) return budget + 1;
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length];
}
