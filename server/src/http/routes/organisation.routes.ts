import express from 'express';
import { z } from 'zod';
import { LOGO_MAX_BYTES } from '../../core/organisation/logo-image.ts';
import { presentOrganisation } from '../../core/organisation/organisation.presenter.ts';
import type { OrganisationService } from '../../core/organisation/organisation.service.ts';
import { AppError } from '../../core/errors.ts';
import { actorOf, clientOf, type SecureRouter } from '../secure-router.ts';
import { body } from '../validate.ts';

// Empty clears it (the app then shows only its own name).
export const organisationSchema = z.object({
  name: z
    .string()
    .trim()
    .max(80)
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters'),
});

// The logo is the request body itself (Content-Type image/*), read whole: it is capped small.
const rawLogo = express.raw({ type: () => true, limit: LOGO_MAX_BYTES });

/** The organisation's name and logo: public to read (the sign-in page shows them), admins change them. */
export function organisationRoutes(r: SecureRouter, organisation: OrganisationService) {
  r.get('/api/organisation', 'public', async (_req, res) => {
    res.json({ organisation: presentOrganisation(await organisation.get()) });
  });

  r.get('/api/organisation/logo', 'public', async (_req, res) => {
    const logo = await organisation.logo();
    if (!logo) throw new AppError(404, 'not_found', 'No logo is set');
    // Versioned address (?v=): cacheable for long; nosniff so it is only ever an image.
    res
      .set('cache-control', 'public, max-age=31536000, immutable')
      .set('x-content-type-options', 'nosniff')
      .type(logo.logo_type)
      .send(logo.logo);
  });

  r.patch('/api/organisation', 'admin', async (req, res) => {
    const { name } = body(organisationSchema, req);
    const row = await organisation.rename(actorOf(req), name, clientOf(req).ip);
    res.json({ organisation: presentOrganisation(row) });
  });

  r.put('/api/organisation/logo', 'admin', rawLogo, async (req, res) => {
    if (!Buffer.isBuffer(req.body) || !req.body.length)
      throw new AppError(
        400,
        'invalid_input',
        'Send the image as the request body (Content-Type image/png, image/jpeg or image/webp)',
      );
    const row = await organisation.setLogo(actorOf(req), req.body, clientOf(req).ip);
    res.json({ organisation: presentOrganisation(row) });
  });

  r.delete('/api/organisation/logo', 'admin', async (req, res) => {
    const row = await organisation.setLogo(actorOf(req), null, clientOf(req).ip);
    res.json({ organisation: presentOrganisation(row) });
  });
}
