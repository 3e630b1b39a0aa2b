use sea_orm::{EntityTrait, PaginatorTrait};

use entity::roster_import::Status;
use entity::{hospital, roster_entry, roster_import, subsidy_policy, user};

use crate::db_test;
use crate::helpers::TestApp;

db_test!(the_demo_seeds_accounts_hospitals_policies_and_rosters);
async fn the_demo_seeds_accounts_hospitals_policies_and_rosters(app: TestApp) {
    cancer_aid::demo::seed(&app.db, app.state.imports.parser(), app.state.clock.now())
        .await
        .unwrap();
    cancer_aid::roster::jobs::drain(&app.db, &app.state.imports)
        .await
        .unwrap();
    // The test app's own worker may still be finishing one of them.
    for _ in 0..300 {
        let all = roster_import::Entity::find().all(&app.db).await.unwrap();
        if all
            .iter()
            .all(|i| matches!(i.status, Status::Succeeded | Status::Failed))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        user::Entity::find().count(&app.db).await.unwrap(),
        cancer_aid::demo::DEMO_USERS.len() as u64
    );
    assert_eq!(hospital::Entity::find().count(&app.db).await.unwrap(), 4);
    assert_eq!(
        subsidy_policy::Entity::find().count(&app.db).await.unwrap(),
        4
    );
    let imports = roster_import::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(imports.len(), 4);
    assert!(
        imports.iter().all(|i| i.status == Status::Succeeded),
        "{imports:?}"
    );
    assert_eq!(
        roster_entry::Entity::find().count(&app.db).await.unwrap(),
        8 + 5 + 4 + 3
    );
    // A second start changes nothing.
    cancer_aid::demo::seed(&app.db, app.state.imports.parser(), app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(
        roster_import::Entity::find().count(&app.db).await.unwrap(),
        4
    );
    for (name, password, ..) in cancer_aid::demo::DEMO_USERS {
        app.login(name, password).await;
    }
}
