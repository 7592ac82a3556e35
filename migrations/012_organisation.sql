-- The organisation's own name and logo, shown on the sign-in page and in the header. At most one
-- row (the check on `id`), written when an admin first sets either: a fresh install stays empty.
-- The logo is small (the service caps it) and lives here rather than under DATA_DIR, so a backup
-- carries it with everything else.
CREATE TABLE organisation (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  name text NOT NULL DEFAULT '' CHECK (char_length(name) <= 80),
  logo bytea,
  logo_type text CHECK (logo_type IN ('image/png', 'image/jpeg', 'image/webp')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((logo IS NULL) = (logo_type IS NULL))
);
