//! PostgreSQL: roster entries check their person once per statement instead of once per row,
//! and the code columns compare bytewise.
//!
//! The foreign key `roster_entries.person_id -> persons.id` ran, for each of a million
//! imported entries, a query of its own that also locked the person's row (and logged the
//! lock): 4 s of a 20 s import. The same guarantee, kept by the database:
//!
//! - every statement that inserts or updates entries checks all its rows against `persons`
//!   at once (a trigger with a transition table) and fails with `foreign_key_violation`;
//! - a person can never be deleted, renumbered or truncated away, so a checked entry cannot
//!   lose its person later (the row lock only guarded against that). Nothing deletes people:
//!   cases, visits and the roster's history refer to them.
//!
//! The ID-number and code columns are ASCII codes: with `COLLATE "C"` their indexes compare
//! bytes instead of calling the locale's collation. SQLite keeps its foreign key, which costs
//! one rowid look-up there, and compares bytes already.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
DO $$
DECLARE c text;
BEGIN
  SELECT conname INTO c FROM pg_constraint
   WHERE conrelid = 'roster_entries'::regclass AND contype = 'f'
     AND confrelid = 'persons'::regclass;
  IF c IS NOT NULL THEN
    EXECUTE format('ALTER TABLE roster_entries DROP CONSTRAINT %I', c);
  END IF;
END $$;

CREATE FUNCTION roster_entries_check_persons() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE missing bigint;
BEGIN
  SELECT n.person_id INTO missing FROM new_rows n
   WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = n.person_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'roster entry refers to person % who does not exist', missing
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $f$;

CREATE TRIGGER roster_entries_person_insert AFTER INSERT ON roster_entries
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION roster_entries_check_persons();
CREATE TRIGGER roster_entries_person_update AFTER UPDATE ON roster_entries
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION roster_entries_check_persons();

CREATE FUNCTION persons_are_kept() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF NEW.id = OLD.id THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'a person is never deleted or renumbered: roster entries, cases and visits refer to them'
    USING ERRCODE = 'restrict_violation';
END $f$;

CREATE TRIGGER persons_kept BEFORE DELETE OR UPDATE OF id ON persons
  FOR EACH ROW EXECUTE FUNCTION persons_are_kept();
CREATE TRIGGER persons_kept_truncate BEFORE TRUNCATE ON persons
  FOR EACH STATEMENT EXECUTE FUNCTION persons_are_kept();

ALTER TABLE persons ALTER COLUMN id_number TYPE varchar(18) COLLATE "C";
ALTER TABLE roster_entries
  ALTER COLUMN group_code TYPE varchar(24) COLLATE "C",
  ALTER COLUMN region_code TYPE varchar(6) COLLATE "C";
"#;

const DOWN: &str = r#"
ALTER TABLE roster_entries
  ALTER COLUMN group_code TYPE varchar(24) COLLATE "default",
  ALTER COLUMN region_code TYPE varchar(6) COLLATE "default";
ALTER TABLE persons ALTER COLUMN id_number TYPE varchar(18) COLLATE "default";
DROP TRIGGER persons_kept_truncate ON persons;
DROP TRIGGER persons_kept ON persons;
DROP FUNCTION persons_are_kept();
DROP TRIGGER roster_entries_person_update ON roster_entries;
DROP TRIGGER roster_entries_person_insert ON roster_entries;
DROP FUNCTION roster_entries_check_persons();
ALTER TABLE roster_entries ADD FOREIGN KEY (person_id) REFERENCES persons (id) ON DELETE RESTRICT;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection().execute_unprepared(UP).await.map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(DOWN)
            .await
            .map(|_| ())
    }
}
