// What the page and the recommender worker say to each other. Every request carries an
// id; the worker answers it with any number of progress messages, then one result or
// one error. Items are named by their index in the trained model's catalog.

/** A file handed to the worker: its name (which picks the format) and its bytes. */
export interface NamedBytes { name: string; bytes: Uint8Array }

/** Which column holds what, as 0-based positions in the file. */
export interface ColumnChoice { user: number; item: number; value?: number; timestamp?: number }

/** The file that names the items (movies.csv for MovieLens), and its columns. */
export interface TitlesChoice { name: string; key: number; label: number; info?: number }

export interface TrainSettings {
  factors: number;
  iterations: number;
  regularization: number;
  /** Keep only users and items with at least this many interactions (a k-core). */
  minCount: number;
}

export type Request =
  | { type: "hello" }
  | { type: "load-builtin"; ratingsUrl: string; titlesUrl: string }
  | { type: "inspect"; files: NamedBytes[] }
  | { type: "describe"; name: string; header: boolean }
  | { type: "load"; name: string; header: boolean; columns: ColumnChoice; titles?: TitlesChoice }
  | { type: "train"; settings: TrainSettings }
  | { type: "similar"; item: number; n: number }
  | { type: "recommend"; liked: number[]; n: number }
  | { type: "resolve"; names: string[] }
  | { type: "evaluate"; settings: TrainSettings };

export interface Runtime {
  /** Whether the page (and so this worker) is cross-origin isolated. */
  isolated: boolean;
  /** Whether the engine runs on shared memory, so ALS can use several threads. */
  shared: boolean;
  /** Threads ALS trains on: every core when shared, else one. */
  threads: number;
  cores: number;
  /** The evaluation's protocol: negatives sampled per held-out movie, and the metrics' cut-off. */
  evaluation: { negatives: number; cutoff: number };
}

/** One step the data went through (read, names, k-core…), as the library reports it. */
export interface Step { transform: string; detail: string }

export interface Loaded {
  source: string;
  rows: number;
  users: number;
  items: number;
  named: boolean;
  steps: Step[];
  seconds: number;
}

/** A table found among the dropped files, with what its columns look like. */
export interface Candidate {
  name: string;
  /** A known format recognised by the file name (movielens…). */
  format?: string;
  /** The format's columns as positions in this file, when it matches one. */
  columns?: ColumnChoice;
  /** Its metadata file's columns as positions, when this is a known metadata file. */
  titleColumns?: { key: number; label: number; info?: number };
  separator?: string;
  header?: string[];
  rows?: string[][];
  fieldCount?: number;
  /** Why it could not be previewed. */
  error?: string;
}

export interface Inspected {
  candidates: Candidate[];
  /** The candidate that most looks like interactions. */
  interactions?: string;
  /** The candidate that most looks like item names for it. */
  titles?: string;
}

export interface CatalogView {
  labels: string[];
  info?: string[];
  /** Users who have each item. */
  popularity: number[];
}

export interface TrainProgress { iteration: number; iterations: number; loss?: number; elapsed: number }

export interface Trained {
  users: number;
  items: number;
  interactions: number;
  seconds: number;
  threads: number;
  /** Loss after each iteration. */
  losses: number[];
  catalog: CatalogView;
  steps: Step[];
}

export interface Scored { item: number; score: number }
export interface Recommendation extends Scored { because: Scored[] }

export interface EvaluationProgress { stage: string; fraction: number }

export interface EvaluationRow {
  model: string;
  description: string;
  hitRatio: number;
  ndcg: number;
  trainSeconds: number;
}

export interface Evaluated {
  split: string;
  usersEvaluated: number;
  candidates: number;
  k: number;
  rows: EvaluationRow[];
  seconds: number;
}

/** An error as the page shows it; for bad data, where in which file. */
export interface WorkerError { message: string; file?: string; line?: number; field?: string; data: boolean }

export type Reply =
  | { id: number; progress: unknown }
  | { id: number; result: unknown }
  | { id: number; error: WorkerError };
