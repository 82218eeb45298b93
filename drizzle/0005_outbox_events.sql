-- Every change of an image writes its event into the outbox in the change's own transaction, whatever
-- code made the change: an upload (INSERT), an edit (an UPDATE that moves updated_at), the processing
-- (an UPDATE that sets processing to ready or failed), a deletion (DELETE). An UPDATE that changes
-- neither (a backfill of what the file is) is not an event.
CREATE FUNCTION images_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO outbox (image_id, event, title) VALUES (NEW.id, 'image_uploaded', NEW.title);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO outbox (image_id, event, title) VALUES (OLD.id, 'image_deleted', OLD.title);
  ELSIF NEW.processing IS DISTINCT FROM OLD.processing AND NEW.processing IN ('ready', 'failed') THEN
    INSERT INTO outbox (image_id, event, title)
    VALUES (NEW.id, CASE NEW.processing WHEN 'ready' THEN 'image_processed' ELSE 'image_processing_failed' END, NEW.title);
  ELSIF NEW.updated_at IS DISTINCT FROM OLD.updated_at THEN
    INSERT INTO outbox (image_id, event, title) VALUES (NEW.id, 'image_updated', NEW.title);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER images_outbox AFTER INSERT OR UPDATE OR DELETE ON images FOR EACH ROW EXECUTE FUNCTION images_outbox();
