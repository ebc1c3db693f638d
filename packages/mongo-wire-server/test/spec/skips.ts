/** A file (or one test in it) the runner does not run, and why. */
export interface Skip {
  /** Test file name, or a pattern over file names. */
  readonly file: string | RegExp;
  /** Test description; the whole file when absent. */
  readonly test?: string;
  readonly reason: string;
}

const COLLATION = 'collations are not supported (README: What it is not)';
const LET = 'command-level `let` variables are not supported (README: What it is not)';
const OUT_MERGE = '$out and $merge are not supported (README: What it is not)';
const FAIL_POINT = 'needs the configureFailPoint test command, which the store does not offer';

/**
 * Every file or test of MongoDB's CRUD specification (source/crud/tests/unified) the runner
 * deliberately leaves out, with the reason. Tests whose own `runOnRequirements` exclude the store
 * (a standalone reporting 7.0.0) are reported separately, with the requirement that excludes them.
 */
export const OFFICIAL_SKIPS: readonly Skip[] = [
  {
    file: /^client-bulkWrite-/,
    reason: "MongoClient.bulkWrite sends MongoDB 8.0's bulkWrite command, which the store does not offer; the runner has no clientBulkWrite operation",
  },
  { file: /-collation\.json$/, reason: COLLATION },
  { file: /-let\.json$/, reason: LET },
  { file: 'aggregate-out.json', reason: OUT_MERGE },
  { file: 'aggregate-merge.json', reason: OUT_MERGE },
  { file: 'aggregate-merge-errorResponse.json', reason: OUT_MERGE },
  { file: 'bypassDocumentValidation.json', test: 'Aggregate with $out passes bypassDocumentValidation: false', reason: OUT_MERGE },
  { file: /^(bulkWrite|deleteOne|insertOne|updateOne)-errorResponse\.json$/, reason: FAIL_POINT },
  { file: 'estimatedDocumentCount.json', test: 'estimatedDocumentCount errors correctly--command error', reason: FAIL_POINT },
  { file: 'estimatedDocumentCount.json', test: 'estimatedDocumentCount errors correctly--socket error', reason: FAIL_POINT },
  { file: 'estimatedDocumentCount.json', test: 'estimatedDocumentCount works correctly on views', reason: 'views are not supported (README: What it is not)' },
  {
    file: 'findOneAndUpdate-errorResponse.json',
    test: 'findOneAndUpdate document validation errInfo is accessible',
    reason: 'needs collMod and document validation, which the store does not offer',
  },
  { file: /^db-aggregate(-rawdata)?\.json$/, reason: '$listLocalSessions needs server sessions, which the store does not keep' },
  ...['BulkWrite', 'FindOneAndReplace', 'FindOneAndUpdate', 'InsertMany'].map((op) => ({
    file: 'bypassDocumentValidation.json',
    test: `${op} passes bypassDocumentValidation: false`,
    reason: 'driver behaviour: for this operation the Node driver leaves bypassDocumentValidation: false out of the command, so the expected event cannot appear',
  })),
  ...['insertOne', 'insertMany', 'bulkWrite'].map((op) => ({
    file: 'create-null-ids.json',
    test: `inserting _id with type null via ${op}`,
    reason: 'driver behaviour: the Node driver replaces a null _id with a new ObjectId before sending (maybeAddIdToDocuments), so the server never sees it',
  })),
];

/**
 * Tests of this package's own cases (`cases/*.json`) the store does not pass, with the reason.
 * Each entry is a known divergence from MongoDB 7.0; the case keeps stating what MongoDB returns.
 */
export const CASE_SKIPS: readonly Skip[] = [
  ...['a reused name conflicts (IndexKeySpecsConflict)', 'under its own name it sits beside the plain index'].map((end) => ({
    file: 'indexes.json',
    test: `unique is part of an index's identity: ${end}`,
    reason:
      "store diverges: since MongoDB 5.0 `unique` and `sparse` belong to an index's signature with its key, collation and partial filter, so an index differing only in them coexists under another name and conflicts under the same one with 86; the store compares them as ordinary options (85, and refuses the second index)",
  })),
  {
    file: 'collections.json',
    test: 'createCollection of an existing name with the same options succeeds and changes nothing',
    reason: 'store diverges: since MongoDB 7.0 `create` succeeds when the collection exists with identical options (only other options answer NamespaceExists, 48); the store answers 48 either way',
  },
  {
    file: 'update-array-filters.json',
    test: 'an array filter the update never uses is an error (FailedToParse)',
    reason: 'store diverges: mongod refuses an arrayFilters entry whose identifier no update path uses (FailedToParse, 9); the store ignores it and applies the update',
  },
];
