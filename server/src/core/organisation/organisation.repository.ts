import type { Queryable } from '../db/database.ts';

export interface OrganisationRow {
  name: string;
  logo_type: string | null;
  updated_at: Date;
}

export function createOrganisationRepository(db: Queryable) {
  return {
    async get(): Promise<OrganisationRow> {
      const { rows } = await db.query<OrganisationRow>('SELECT name, logo_type, updated_at FROM organisation');
      return rows[0]!;
    },
    async logo(): Promise<{ logo: Buffer; logo_type: string; updated_at: Date } | undefined> {
      const { rows } = await db.query<{ logo: Buffer | Uint8Array; logo_type: string; updated_at: Date }>(
        'SELECT logo, logo_type, updated_at FROM organisation WHERE logo IS NOT NULL',
      );
      const row = rows[0];
      // PGlite hands bytea back as a Uint8Array, pg as a Buffer.
      return row ? { ...row, logo: Buffer.from(row.logo) } : undefined;
    },
    async setName(name: string): Promise<OrganisationRow> {
      const { rows } = await db.query<OrganisationRow>(
        'UPDATE organisation SET name = $1, updated_at = now() RETURNING name, logo_type, updated_at',
        [name],
      );
      return rows[0]!;
    },
    async setLogo(logo: { bytes: Buffer; type: string } | null): Promise<OrganisationRow> {
      const { rows } = await db.query<OrganisationRow>(
        'UPDATE organisation SET logo = $1, logo_type = $2, updated_at = now() RETURNING name, logo_type, updated_at',
        [logo?.bytes ?? null, logo?.type ?? null],
      );
      return rows[0]!;
    },
  };
}
