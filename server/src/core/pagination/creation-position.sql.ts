/**
 * A row's place in a newest-first list, as the exact UTC text of its `created_at` (microseconds,
 * as the database keeps them). Rows written by one transaction share one `created_at`; a cursor
 * made from a JS Date (milliseconds) would sort after all of them and skip the rest of the page.
 */
export const creationPositionSql = (alias: string) =>
  `to_char(${alias}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position`;

/** A listed row with its exact position (see creationPositionSql). */
export interface Positioned {
  position: string;
}
