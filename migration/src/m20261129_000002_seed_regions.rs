//! Seeds the `regions` table with Jilin's division codes (GB/T 2260), including former codes
//! that point to their successors, so an old code in a roster still rolls up to its city.

use sea_orm_migration::prelude::*;

/// The province's codes, shipped with the binary: nothing reads files at run time.
const REGIONS_CSV: &str = include_str!("../data/jilin-regions.csv");

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Regions {
    Table,
    Code,
    Name,
    ParentCode,
    Level,
    SuccessorCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut insert = Query::insert()
            .into_table(Regions::Table)
            .columns([
                Regions::Code,
                Regions::Name,
                Regions::ParentCode,
                Regions::Level,
                Regions::SuccessorCode,
            ])
            .to_owned();
        let mut reader = csv::Reader::from_reader(REGIONS_CSV.as_bytes());
        for record in reader.records() {
            let record = record.map_err(|e| DbErr::Migration(format!("regions csv: {e}")))?;
            let field = |i: usize| record.get(i).unwrap_or("").trim().to_owned();
            let parent = Some(field(2)).filter(|p| !p.is_empty());
            // The note says "former code; now 220184" for retired codes.
            let successor = field(4)
                .rsplit_once("now ")
                .map(|(_, code)| code.trim().to_owned());
            insert.values_panic([
                field(0).into(),
                field(1).into(),
                parent.into(),
                field(3).into(),
                successor.into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(Query::delete().from_table(Regions::Table).to_owned())
            .await
    }
}
