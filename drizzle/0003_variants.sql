ALTER TABLE "images" ADD COLUMN "variants" jsonb;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "processing" varchar(16) DEFAULT 'pending' NOT NULL;