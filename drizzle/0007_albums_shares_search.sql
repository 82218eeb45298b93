CREATE TABLE "album_images" (
	"album_id" uuid NOT NULL,
	"image_id" uuid NOT NULL,
	"image_created_at" timestamp with time zone NOT NULL,
	"image_taken_sort" timestamp NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "album_images_album_id_image_id_pk" PRIMARY KEY("album_id","image_id")
);
--> statement-breakpoint
CREATE TABLE "albums" (
	"id" uuid PRIMARY KEY NOT NULL,
	"title" varchar(64) NOT NULL,
	"description" varchar(1024) DEFAULT '' NOT NULL,
	"cover_image_id" uuid,
	"image_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "albums_title_key" UNIQUE("title")
);
--> statement-breakpoint
CREATE TABLE "share_images" (
	"share_id" uuid NOT NULL,
	"image_id" uuid NOT NULL,
	"image_created_at" timestamp with time zone NOT NULL,
	"image_taken_sort" timestamp NOT NULL,
	CONSTRAINT "share_images_share_id_image_id_pk" PRIMARY KEY("share_id","image_id")
);
--> statement-breakpoint
CREATE TABLE "shares" (
	"id" uuid PRIMARY KEY NOT NULL,
	"token" varchar(43) NOT NULL,
	"album_id" uuid,
	"title" varchar(64) DEFAULT '' NOT NULL,
	"description" varchar(1024) DEFAULT '' NOT NULL,
	"expires_at" timestamp with time zone,
	"password_hash" text,
	"allow_originals" boolean DEFAULT false NOT NULL,
	"image_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shares_token_key" UNIQUE("token")
);
--> statement-breakpoint
ALTER TABLE "outbox" RENAME COLUMN "image_id" TO "subject_id";--> statement-breakpoint
DROP INDEX "outbox_image_idx";--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "title" SET DATA TYPE varchar(64);--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "taken_at" varchar(40);--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "taken_local" timestamp;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "taken_sort" timestamp GENERATED ALWAYS AS (coalesce(taken_local, '-infinity'::timestamp)) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "camera" jsonb;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "exposure" jsonb;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "exif_read_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "search_title" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "search_description" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "payload" jsonb;--> statement-breakpoint
ALTER TABLE "album_images" ADD CONSTRAINT "album_images_album_id_albums_id_fk" FOREIGN KEY ("album_id") REFERENCES "public"."albums"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "album_images" ADD CONSTRAINT "album_images_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "albums" ADD CONSTRAINT "albums_cover_image_id_images_id_fk" FOREIGN KEY ("cover_image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_images" ADD CONSTRAINT "share_images_share_id_shares_id_fk" FOREIGN KEY ("share_id") REFERENCES "public"."shares"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "share_images" ADD CONSTRAINT "share_images_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shares" ADD CONSTRAINT "shares_album_id_albums_id_fk" FOREIGN KEY ("album_id") REFERENCES "public"."albums"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "album_images_image_idx" ON "album_images" USING btree ("image_id");--> statement-breakpoint
CREATE INDEX "album_images_created_idx" ON "album_images" USING btree ("album_id","image_created_at","image_id");--> statement-breakpoint
CREATE INDEX "album_images_taken_idx" ON "album_images" USING btree ("album_id","image_taken_sort","image_created_at","image_id");--> statement-breakpoint
CREATE INDEX "albums_created_at_id_idx" ON "albums" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "share_images_image_idx" ON "share_images" USING btree ("image_id");--> statement-breakpoint
CREATE INDEX "share_images_created_idx" ON "share_images" USING btree ("share_id","image_created_at","image_id");--> statement-breakpoint
CREATE INDEX "share_images_taken_idx" ON "share_images" USING btree ("share_id","image_taken_sort","image_created_at","image_id");--> statement-breakpoint
CREATE INDEX "shares_created_at_id_idx" ON "shares" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "shares_album_idx" ON "shares" USING btree ("album_id");--> statement-breakpoint
CREATE INDEX "images_taken_sort_idx" ON "images" USING btree ("taken_sort","created_at","id");--> statement-breakpoint
CREATE INDEX "images_search_idx" ON "images" USING gin (to_tsvector('simple', "search_title" || ' ' || "search_description"));--> statement-breakpoint
CREATE INDEX "images_sha256_idx" ON "images" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "outbox_subject_idx" ON "outbox" USING btree ("subject_id","id") WHERE published_at is null;