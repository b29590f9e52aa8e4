// Queries in the data's own words: users by their ids, items by their names, results
// with labels. What the CLI and the web demo ask a trained model; never internal indices.

import type { Explanation, LikedItems } from "./als.js";
import type { Catalog } from "./catalog.js";
import { CsrMatrix } from "./csr.js";
import type { BatchTopN, RecommendOptions, SimilarOptions, TopN } from "./factorization.js";
import { NameIndex, type NameMatch } from "./names.js";

/** One item in an answer, as a person reads it. */
export interface NamedItem {
  key: string;
  label: string;
  info?: string;
  score: number;
  /** For recommendations with explain: the liked items contributing most. */
  because?: { key: string; label: string; score: number }[];
}

export interface NamedAnswer {
  items: NamedItem[];
  /** Lines worth telling the user: which of several equal names was taken, and so on. */
  notes: string[];
  hasInfo: boolean;
}

/** An item or user name that matched nothing: carries the closest names. */
export class UnknownNameError extends Error {
  constructor(readonly kind: "item" | "user", readonly query: string, readonly suggestions: string[]) {
    super(`no ${kind} '${query}' in the model${suggestions.length ? `; did you mean: ${suggestions.map((s) => `'${s}'`).join(", ")}?` : ""}`);
  }
}

/**
 * What NamedQueries needs of a model: implicit's recommend, and optionally
 * similarItems, recalculateUser and explain (ALS has all; item-item models fold new
 * users in through their liked items; the rest answer what they can).
 */
export interface QueryableModel {
  catalog?: Catalog;
  userItems?: CsrMatrix;
  recommend(user: number, userItems?: CsrMatrix, options?: RecommendOptions): TopN;
  recommend(userFactors: Float32Array, likedItems?: ArrayLike<number>, options?: RecommendOptions): TopN;
  similarItems?(item: number, options?: SimilarOptions): TopN | BatchTopN;
  recalculateUser?(liked: LikedItems): Float32Array;
  explain?(user: number, userItems: CsrMatrix | LikedItems, item: number, options?: { n?: number }): Explanation;
}

/** Name-aware queries over a model that carries a catalog (as models trained by `edgerec fit` do). */
export class NamedQueries {
  readonly model: QueryableModel;
  readonly catalog: Catalog;
  private userIndex?: Map<string, number>;
  private itemNames?: NameIndex;
  private itemKeyIndex?: Map<string, number>;

  constructor(model: QueryableModel) {
    if (!model.catalog) throw new Error("this model has no catalog of ids and names: train it with `edgerec fit`, or set model.catalog before saving");
    this.model = model;
    this.catalog = model.catalog;
  }

  label(item: number): string {
    return this.catalog.itemLabels?.[item] ?? this.catalog.itemKeys[item];
  }

  /** The user index of a user id of the data; a miss suggests close ids. */
  findUser(userKey: string): number {
    this.userIndex ??= new Map(this.catalog.userKeys.map((key, i) => [key, i]));
    const found = this.userIndex.get(userKey.trim());
    if (found !== undefined) return found;
    const match = new NameIndex(this.catalog.userKeys).lookup(userKey);
    throw new UnknownNameError("user", userKey, match.found ? [match.label] : match.suggestions.map((s) => s.label));
  }

  /** The item a person means by `name` (a label, forgivingly, or an exact id); a miss suggests close names. */
  findItem(name: string, notes: string[] = []): number {
    const match = this.lookupItem(name);
    if (!match.found) throw new UnknownNameError("item", name, match.suggestions.map((s) => s.label));
    if (match.alternatives.length) {
      notes.push(`'${name}' matches ${match.alternatives.length + 1} items; took the most popular, ${match.label} (others: ${match.alternatives.slice(0, 3).map((a) => this.label(a)).join("; ")})`);
    }
    return match.id;
  }

  /**
   * Items from a list of names. Names may hold commas ("American President, The"), so
   * comma-separated pieces that match nothing alone are joined with the next ones.
   */
  findItems(lists: string[], notes: string[] = []): number[] {
    const ids: number[] = [];
    for (const list of lists) {
      const pieces = list.split(",").map((p) => p.trim());
      for (let i = 0; i < pieces.length; i++) {
        if (!pieces[i]) continue;
        let taken = 0;
        for (let j = Math.min(pieces.length - 1, i + 3); j > i && !taken; j--) {
          const joined = pieces.slice(i, j + 1).join(", ");
          // Only whether it matches: suggestions for a miss cost an edit-distance scan of every name.
          if (this.lookupItem(joined, 0).found) { ids.push(this.findItem(joined, notes)); taken = j - i; }
        }
        if (!taken) ids.push(this.findItem(pieces[i], notes));
        i += taken;
      }
    }
    if (!ids.length) throw new Error("no liked items given");
    return [...new Set(ids)];
  }

  /** Recommendations for a user of the training data, skipping what they already have. */
  recommendForUser(userKey: string, { n = 10, filter = true, explain = false } = {}): NamedAnswer & { user: string } {
    const user = this.findUser(userKey);
    const userItems = this.model.userItems;
    if (filter && !userItems) throw new Error("this model file does not hold the training interactions, so it cannot skip what the user has: use --no-filter");
    const { ids, scores } = this.model.recommend(user, userItems, { n, filterAlreadyLikedItems: filter });
    const liked = userItems ? { items: Array.from(userItems.row(user).indices), values: Array.from(userItems.row(user).data) } : undefined;
    return { user: userKey, notes: [], hasInfo: Boolean(this.catalog.itemInfo), items: this.named(ids, scores, explain && liked ? liked : undefined) };
  }

  /**
   * Recommendations for someone new from the names of items they like, folded in
   * without retraining (recalculateUser). Each liked item counts as the training data's
   * median value. Unknown names are errors, never skipped.
   */
  recommendForLiked(names: string[], { n = 10, filter = true, explain = false } = {}): NamedAnswer & { liked: string[] } {
    const notes: string[] = [];
    const items = this.findItems(names, notes);
    const value = this.typicalValue();
    const liked = { items, values: items.map(() => value) };
    let answer: TopN;
    if (this.model.recalculateUser) {
      answer = this.model.recommend(this.model.recalculateUser(liked), items, { n, filterAlreadyLikedItems: filter });
    } else if (this.model.similarItems && !("userFactors" in this.model)) {
      // Item-item models score a user from their liked items directly: a one-row matrix.
      const row = CsrMatrix.fromCoo({ rows: items.map(() => 0), cols: items, values: liked.values, shape: [1, this.catalog.itemKeys.length] });
      answer = this.model.recommend(0, row, { n, filterAlreadyLikedItems: filter });
      row.dispose();
    } else {
      throw new Error("this kind of model cannot fold in a new user from liked items: use an als, cosine, bm25 or tfidf model");
    }
    const { ids, scores } = answer;
    return { liked: items.map((i) => this.label(i)), notes, hasInfo: Boolean(this.catalog.itemInfo), items: this.named(ids, scores, explain ? liked : undefined) };
  }

  /** Items most like `name` (cosine), the item itself left out. */
  similar(name: string, { n = 10 } = {}): NamedAnswer & { item: string } {
    const notes: string[] = [];
    const item = this.findItem(name, notes);
    if (!this.model.similarItems) throw new Error("this kind of model has no item similarity: use als, bpr, cosine, bm25 or tfidf");
    const { ids, scores } = this.model.similarItems(item, { n: n + 1 }) as TopN;
    const keep = Array.from(ids.keys()).filter((j) => ids[j] !== item).slice(0, n);
    return { item: this.label(item), notes, hasInfo: Boolean(this.catalog.itemInfo), items: this.named(Int32Array.from(keep, (j) => ids[j]), Float32Array.from(keep, (j) => scores[j])) };
  }

  /** Why `itemName` would be recommended to the user: each liked item's share of the score. */
  explain(userKey: string, itemName: string, { n = 10 } = {}) {
    const notes: string[] = [];
    const user = this.findUser(userKey);
    const item = this.findItem(itemName, notes);
    const userItems = this.model.userItems;
    if (!userItems) throw new Error("this model file does not hold the training interactions, which explain needs");
    if (!this.model.explain) throw new Error("explanations need an als model");
    const explanation = this.model.explain(user, userItems, item, { n });
    return {
      user: userKey, item: this.label(item), score: explanation.score, likedCount: explanation.contributions.ids.length, notes,
      contributions: Array.from(explanation.topContributions.ids, (id, j) => ({ key: this.catalog.itemKeys[id], label: this.label(id), score: explanation.topContributions.scores[j] })),
    };
  }

  private lookupItem(name: string, suggestions = 5): NameMatch {
    this.itemKeyIndex ??= new Map(this.catalog.itemKeys.map((key, i) => [key, i]));
    this.itemNames ??= new NameIndex(this.catalog.itemLabels ?? this.catalog.itemKeys, this.popularity());
    const match = this.itemNames.lookup(name, { suggestions });
    if (match.found) return match;
    const byKey = this.itemKeyIndex.get(name.trim());
    return byKey !== undefined ? { found: true, id: byKey, label: this.label(byKey), alternatives: [] } : match;
  }

  // Users per item, from the training matrix when the model has it.
  private popularity(): Int32Array | undefined {
    const userItems = this.model.userItems;
    if (!userItems) return undefined;
    const counts = new Int32Array(userItems.nCols);
    for (const i of userItems.indices) counts[i]++;
    return counts;
  }

  // The median training value, found by selection (linear time) rather than a full sort:
  // the Last.fm-360K training matrix has 17.5M values.
  private typicalValue(): number {
    const data = this.model.userItems?.data;
    if (!data || data.length === 0) return 1;
    const values = Float32Array.from(data);
    const middle = values.length >> 1;
    let lo = 0, hi = values.length - 1;
    while (lo < hi) {
      const pivot = values[(lo + hi) >> 1];
      let i = lo, j = hi;
      while (i <= j) {
        while (values[i] < pivot) i++;
        while (values[j] > pivot) j--;
        if (i <= j) { const t = values[i]; values[i] = values[j]; values[j] = t; i++; j--; }
      }
      if (middle <= j) hi = j; else if (middle >= i) lo = i; else break;
    }
    return values[middle] || 1;
  }

  private named(ids: Int32Array, scores: Float32Array, liked?: { items: number[]; values: number[] }): NamedItem[] {
    return Array.from(ids, (id, j) => {
      const entry: NamedItem = { key: this.catalog.itemKeys[id], label: this.label(id), score: scores[j] };
      if (this.catalog.itemInfo) entry.info = this.catalog.itemInfo[id];
      if (liked && this.model.explain) {
        const { topContributions } = this.model.explain(0, liked, id, { n: 3 });
        entry.because = Array.from(topContributions.ids, (c, k) => ({ key: this.catalog.itemKeys[c], label: this.label(c), score: topContributions.scores[k] }));
      }
      return entry;
    });
  }
}
