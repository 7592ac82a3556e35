import type { Database } from '../db/database.ts';
import { revokeCredentials } from '../auth/auth.service.ts';
import { generatePassword, hashPassword } from '../crypto/password.ts';
import { createUserRepository } from './user.repository.ts';

export type FirstAdminResult = { created: false } | { created: true; email: string; generatedPassword?: string };

/**
 * Creates the first admin when no active admin exists: ADMIN_EMAIL/ADMIN_PASSWORD when given,
 * otherwise a strong generated password that the caller prints exactly once.
 */
export async function ensureFirstAdmin(
  db: Database,
  admin: { email: string; password?: string | undefined },
): Promise<FirstAdminResult> {
  const password = admin.password ?? generatePassword();
  // Hash outside the transaction: it is the slow part and needs no lock.
  const passwordHash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const users = createUserRepository(tx);
    // Two processes starting on an empty database must not both create an admin.
    await users.lockAdminSet();
    if ((await users.countActiveAdmins()) > 0) return { created: false };
    const existing = await users.findByEmail(admin.email);
    if (existing) {
      // The configured address exists as a non-admin or disabled account: promote it rather than fail.
      // Its password is replaced, so whatever was signed in with the old one ends (as after any reset).
      await users.update(existing.id, { role: 'admin', disabled: false, passwordHash });
      await revokeCredentials(tx, existing.id);
    } else {
      await users.insert({ email: admin.email, name: 'Administrator', passwordHash, role: 'admin' });
    }
    return { created: true, email: admin.email, ...(admin.password ? {} : { generatedPassword: password }) };
  });
}
