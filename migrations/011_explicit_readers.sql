-- Who may read was implied by an empty list: a collection naming no groups was read by everyone, a
-- document naming none by its collection's readers, a bot naming no collections was offered to
-- everyone. Deleting a group cascaded its rows away and so widened access without anyone choosing
-- it. The choice is now stored: an emptied group list under 'groups' admits admins only.
ALTER TABLE collections ADD COLUMN readers text NOT NULL DEFAULT 'everyone' CHECK (readers IN ('everyone', 'groups'));
UPDATE collections c SET readers = 'groups' WHERE EXISTS (SELECT 1 FROM collection_groups cg WHERE cg.collection_id = c.id);

ALTER TABLE documents ADD COLUMN readers text NOT NULL DEFAULT 'collection' CHECK (readers IN ('collection', 'groups'));
UPDATE documents d SET readers = 'groups' WHERE EXISTS (SELECT 1 FROM document_groups dg WHERE dg.document_id = d.id);

ALTER TABLE bots ADD COLUMN users text NOT NULL DEFAULT 'everyone' CHECK (users IN ('everyone', 'collection-readers'));
UPDATE bots SET users = 'collection-readers' WHERE cardinality(collection_ids) > 0;
