-- The outbox now carries events of images, albums and shares: the images' trigger writes subject_id,
-- and with a change the version it made (updated_at, as the API writes it), for the relay only: the
-- cached reads older than that version are dropped before anyone hears of the change.
CREATE OR REPLACE FUNCTION images_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed jsonb;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (NEW.id, 'image_uploaded', NEW.title);
    RETURN NULL;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (OLD.id, 'image_deleted', OLD.title);
    RETURN NULL;
  END IF;
  changed := jsonb_build_object('_version', to_char(NEW.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'));
  IF NEW.processing IS DISTINCT FROM OLD.processing AND NEW.processing IN ('ready', 'failed') THEN
    INSERT INTO outbox (subject_id, event, title, payload)
    VALUES (NEW.id, CASE NEW.processing WHEN 'ready' THEN 'image_processed' ELSE 'image_processing_failed' END, NEW.title, changed);
  ELSIF NEW.updated_at IS DISTINCT FROM OLD.updated_at THEN
    INSERT INTO outbox (subject_id, event, title, payload) VALUES (NEW.id, 'image_updated', NEW.title, changed);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Images stored before search existed: their words, lower-cased (npm run db:backfill folds them as
-- the service does, accents included). No event: updated_at does not move.
UPDATE images SET search_title = lower(title), search_description = lower(description);
--> statement-breakpoint
-- A change of when a photo was taken reaches the copies the album and share pages are ordered by.
CREATE FUNCTION images_taken_sort() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE album_images SET image_taken_sort = NEW.taken_sort WHERE image_id = NEW.id;
  UPDATE share_images SET image_taken_sort = NEW.taken_sort WHERE image_id = NEW.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER images_taken_sort AFTER UPDATE OF taken_local ON images FOR EACH ROW
WHEN (OLD.taken_local IS DISTINCT FROM NEW.taken_local) EXECUTE FUNCTION images_taken_sort();
--> statement-breakpoint
-- An album's events: created, deleted, and updated when what the owner sets changes (its title,
-- description or chosen cover); a change of its images says so in album_images_added/_removed.
CREATE FUNCTION albums_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (NEW.id, 'album_created', NEW.title);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (OLD.id, 'album_deleted', OLD.title);
  ELSIF (NEW.title, NEW.description, NEW.cover_image_id) IS DISTINCT FROM (OLD.title, OLD.description, OLD.cover_image_id) THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (NEW.id, 'album_updated', NEW.title);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER albums_outbox AFTER INSERT OR UPDATE OR DELETE ON albums FOR EACH ROW EXECUTE FUNCTION albums_outbox();
--> statement-breakpoint
-- Images added to albums, one statement at a time: each album's count moves in the same
-- transaction (so it is true at every read, whatever runs at once: the album's row serializes its
-- writers), its updated_at with it, and one album_images_added event lists them.
CREATE FUNCTION album_images_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE albums a SET image_count = a.image_count + n.added, updated_at = greatest(now(), a.updated_at + interval '1 microsecond')
  FROM (SELECT album_id, count(*)::int AS added FROM added GROUP BY album_id) n WHERE a.id = n.album_id;
  INSERT INTO outbox (subject_id, event, title, payload)
  SELECT a.id, 'album_images_added', a.title, jsonb_build_object('image_ids', n.ids)
  FROM (SELECT album_id, jsonb_agg(image_id ORDER BY image_id) AS ids FROM added GROUP BY album_id) n JOIN albums a ON a.id = n.album_id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER album_images_added AFTER INSERT ON album_images REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION album_images_added();
--> statement-breakpoint
-- Images leaving albums: the counts move; an event only for what the owner removed from an album
-- that stays (a deleted image or album says so with its own event).
CREATE FUNCTION album_images_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE albums a SET image_count = a.image_count - n.removed, updated_at = greatest(now(), a.updated_at + interval '1 microsecond')
  FROM (SELECT album_id, count(*)::int AS removed FROM removed GROUP BY album_id) n WHERE a.id = n.album_id;
  INSERT INTO outbox (subject_id, event, title, payload)
  SELECT a.id, 'album_images_removed', a.title, jsonb_build_object('image_ids', n.ids)
  FROM (
    SELECT album_id, jsonb_agg(image_id ORDER BY image_id) AS ids FROM removed r
    WHERE EXISTS (SELECT 1 FROM images i WHERE i.id = r.image_id) GROUP BY album_id
  ) n JOIN albums a ON a.id = n.album_id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER album_images_removed AFTER DELETE ON album_images REFERENCING OLD TABLE AS removed
FOR EACH STATEMENT EXECUTE FUNCTION album_images_removed();
--> statement-breakpoint
-- A share of images counts them as an album does (a deleted image leaves every share at once).
CREATE FUNCTION share_images_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE shares s SET image_count = s.image_count + n.changed
    FROM (SELECT share_id, count(*)::int AS changed FROM added GROUP BY share_id) n WHERE s.id = n.share_id;
  ELSE
    UPDATE shares s SET image_count = s.image_count - n.changed
    FROM (SELECT share_id, count(*)::int AS changed FROM removed GROUP BY share_id) n WHERE s.id = n.share_id;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER share_images_added AFTER INSERT ON share_images REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION share_images_counted();
--> statement-breakpoint
CREATE TRIGGER share_images_removed AFTER DELETE ON share_images REFERENCING OLD TABLE AS removed
FOR EACH STATEMENT EXECUTE FUNCTION share_images_counted();
--> statement-breakpoint
-- A share's events: created, and revoked when its row goes (revoked by the owner, or with its
-- album). The revocation carries, for the relay only, the digest its cached entry is kept under.
CREATE FUNCTION shares_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox (subject_id, event, title) VALUES (NEW.id, 'share_created', NEW.title);
  ELSE
    INSERT INTO outbox (subject_id, event, title, payload)
    VALUES (OLD.id, 'share_revoked', OLD.title, jsonb_build_object('_cache_key', encode(sha256(convert_to(OLD.token, 'UTF8')), 'hex')));
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER shares_outbox AFTER INSERT OR DELETE ON shares FOR EACH ROW EXECUTE FUNCTION shares_outbox();
