CREATE TABLE "images" (
	"id" uuid PRIMARY KEY NOT NULL,
	"title" varchar(32) NOT NULL,
	"description" varchar(32) NOT NULL,
	"filename" varchar(128) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"file_url" varchar(128) NOT NULL,
	CONSTRAINT "images_title_key" UNIQUE("title")
);
