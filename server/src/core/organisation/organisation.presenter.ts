import type { OrganisationRow } from './organisation.repository.ts';

/** What the sign-in page and the header show; the logo's address changes with it, so no cache shows an old one. */
export function presentOrganisation(row: OrganisationRow) {
  return {
    name: row.name,
    logoUrl: row.logo_type ? `/api/organisation/logo?v=${row.updated_at.getTime()}` : null,
  };
}

export type PresentedOrganisation = ReturnType<typeof presentOrganisation>;
