import type { Queryable } from '../db/database.ts';

export interface OrganisationRow {
  name: string;
  logo_type: string | null;
  updated_at: Date;
}

export function createOrganisationRepository(db: Queryable) {
  return {
    /** Nothing set yet (no row): no name, no logo. */
    async get(): Promise<OrganisationRow> {
      const { rows } = await db.query<OrganisationRow>('SELECT name, logo_type, updated_at FROM organisation');
      return rows[0] ?? { name: '', logo_type: null, updated_at: new Date(0) };
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
        `INSERT INTO organisation (name) VALUES ($1)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
         RETURNING name, logo_type, updated_at`,
        [name],
      );
      return rows[0]!;
    },
    async setLogo(logo: { bytes: Buffer; type: string } | null): Promise<OrganisationRow> {
      const { rows } = await db.query<OrganisationRow>(
        `INSERT INTO organisation (logo, logo_type) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET logo = EXCLUDED.logo, logo_type = EXCLUDED.logo_type, updated_at = now()
         RETURNING name, logo_type, updated_at`,
        [logo?.bytes ?? null, logo?.type ?? null],
      );
      return rows[0]!;
    },
  };
}
