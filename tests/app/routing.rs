use crate::helpers::TestApp;
use zhouzhouhui::db;
use zhouzhouhui::domain::routing::Route;
use zhouzhouhui::domain::unit::UnitKind;

#[tokio::test]
async fn in_the_demo_town_every_category_of_every_village_reaches_someone() {
    let app = TestApp::demo().await;
    let units = db::units::all(&app.db).await.unwrap();
    let cats = db::categories::all(&app.db).await.unwrap();
    let villages: Vec<_> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Village)
        .collect();
    assert!(villages.len() >= 6);
    assert!(villages.iter().any(|v| v.name == "金星村"));
    for office in [
        "城建办",
        "农业服务中心",
        "派出所",
        "水务站",
        "社区事务受理中心",
        "综合执法队",
    ] {
        assert!(
            units
                .iter()
                .any(|u| u.name == office && u.kind == UnitKind::Office),
            "{office}"
        );
    }
    for v in &villages {
        for c in &cats {
            let route = db::rules::resolve(&app.db, v.id, c.id).await.unwrap();
            assert!(
                matches!(route, Route::Rule { .. }),
                "{} / {} has no rule",
                v.name,
                c.name
            );
        }
    }
}

#[tokio::test]
async fn a_village_rule_beats_the_township_rule() {
    let app = TestApp::demo().await;
    let village = app.unit_id("金星村").await;
    let dispute = app.category_id("邻里纠纷").await;
    let route = db::rules::resolve(&app.db, village, dispute).await.unwrap();
    match route {
        Route::Rule {
            handler_unit_id,
            matched_area_unit_id,
            time_limit_days,
            ..
        } => {
            assert_eq!(handler_unit_id, village, "the village committee mediates");
            assert_eq!(matched_area_unit_id, village);
            assert_eq!(time_limit_days, 3);
        }
        Route::Queue { .. } => panic!("expected a rule"),
    }
    let safety = app.category_id("治安隐患").await;
    let police = app.unit_id("派出所").await;
    assert_eq!(
        db::rules::resolve(&app.db, village, safety)
            .await
            .unwrap()
            .target_unit(),
        Some(police)
    );
}
