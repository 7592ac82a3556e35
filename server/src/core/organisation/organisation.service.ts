import { appendAudit } from '../audit/audit.service.ts';
import type { Database } from '../db/database.ts';
import type { Actor } from '../policy/actor.ts';
import { logoType } from './logo-image.ts';
import { createOrganisationRepository, type OrganisationRow } from './organisation.repository.ts';

/** The organisation's name and logo: read by anyone (the sign-in page), changed by admins, audited. */
export function createOrganisationService(deps: { db: Database }) {
  const { db } = deps;

  /** Applies a change and records it in one transaction. */
  function change(
    actor: Actor,
    ip: string,
    details: Record<string, unknown>,
    apply: (repo: ReturnType<typeof createOrganisationRepository>) => Promise<OrganisationRow>,
  ): Promise<OrganisationRow> {
    return db.transaction(async (tx) => {
      const row = await apply(createOrganisationRepository(tx));
      await appendAudit(tx, {
        action: 'organisation.updated',
        actor: { id: actor.id, email: actor.email },
        ip,
        details,
      });
      return row;
    });
  }

  return {
    get(): Promise<OrganisationRow> {
      return createOrganisationRepository(db).get();
    },
    logo() {
      return createOrganisationRepository(db).logo();
    },
    rename(actor: Actor, name: string, ip: string): Promise<OrganisationRow> {
      return change(actor, ip, { name }, (repo) => repo.setName(name));
    },
    /** A new logo (its type read from its bytes), or none. */
    setLogo(actor: Actor, bytes: Buffer | null, ip: string): Promise<OrganisationRow> {
      const logo = bytes ? { bytes, type: logoType(bytes) } : null;
      const details = logo ? { logo: logo.type, bytes: logo.bytes.length } : { logo: null };
      return change(actor, ip, details, (repo) => repo.setLogo(logo));
    },
  };
}

export type OrganisationService = ReturnType<typeof createOrganisationService>;
