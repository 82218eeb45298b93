CREATE TABLE "uploads" (
	"id" uuid PRIMARY KEY NOT NULL,
	"title" varchar(32) NOT NULL,
	"description" varchar(32) NOT NULL,
	"filename" varchar(128) NOT NULL,
	"size" bigint NOT NULL,
	"content_type" varchar(32) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "content_type" varchar(32);--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "size" bigint;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "width" integer;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "height" integer;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "sha256" char(64);--> statement-breakpoint
CREATE INDEX "uploads_expires_at_idx" ON "uploads" USING btree ("expires_at");