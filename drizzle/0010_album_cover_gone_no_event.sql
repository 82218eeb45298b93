-- An album's chosen cover that is deleted is cleared by the foreign key (ON DELETE SET NULL): the
-- image's deletion says so with image_deleted, as it does for the album's count, so the album says
-- nothing of its own. The owner clearing or choosing a cover is still album_updated.
CREATE OR REPLACE FUNCTION albums_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (NEW.id, 'album_created', NEW.title);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (OLD.id, 'album_deleted', OLD.title);
  ELSIF (NEW.title, NEW.description) IS DISTINCT FROM (OLD.title, OLD.description)
    OR (NEW.cover_image_id IS DISTINCT FROM OLD.cover_image_id
        AND (NEW.cover_image_id IS NOT NULL OR EXISTS (SELECT 1 FROM images WHERE id = OLD.cover_image_id))) THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (NEW.id, 'album_updated', NEW.title);
  END IF;
  RETURN NULL;
END
$$;
