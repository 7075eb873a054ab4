//! Routing rules and route resolution against the stored tree.

use super::entities::routing_rule;
use super::{Error, Result, begin_write, categories, unique_as_invalid, units};
use crate::domain::Validation;
use crate::domain::category::MAX_TIME_LIMIT_DAYS;
use crate::domain::routing::{self, Route, Rule};
use crate::domain::unit::UnitKind;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    ModelTrait, QueryOrder,
};

impl From<routing_rule::Model> for Rule {
    fn from(m: routing_rule::Model) -> Self {
        Rule {
            id: m.id,
            category_id: m.category_id,
            area_unit_id: m.area_unit_id,
            handler_unit_id: m.handler_unit_id,
            time_limit_days: m.time_limit_days,
        }
    }
}

/// Every rule, oldest first.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Rule>> {
    Ok(routing_rule::Entity::find()
        .order_by_asc(routing_rule::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Rule::from)
        .collect())
}

/// Input for a new rule.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct RuleInput {
    /// Category.
    pub category_id: Option<i32>,
    /// Place (county, township or village).
    pub area_unit_id: Option<i32>,
    /// Handling unit.
    pub handler_unit_id: Option<i32>,
    /// Optional time-limit override.
    pub time_limit_days: Option<i64>,
}

/// Validates and creates a rule. `scope`: the acting admin's unit; the area
/// must lie within it.
pub async fn create(
    db: &DatabaseConnection,
    input: &RuleInput,
    scope: Option<i32>,
) -> Result<Rule> {
    let tx = begin_write(db).await?;
    super::lock_setup(&tx).await?;
    let tree = units::tree(&tx).await?;
    let mut v = Validation::new();
    match input.category_id {
        None => v.add("category_id", "err.required"),
        Some(c) => {
            if matches!(categories::get(&tx, c).await, Err(Error::NotFound)) {
                v.add("category_id", "err.rule.no_category");
            }
        }
    }
    match input.area_unit_id.map(|a| (a, tree.kind(a))) {
        None => v.add("area_unit_id", "err.required"),
        Some((_, None)) => v.add("area_unit_id", "err.rule.no_unit"),
        Some((_, Some(k))) if !k.is_place() => v.add("area_unit_id", "err.rule.area_not_place"),
        Some((a, Some(_))) => {
            if scope.is_some_and(|s| !tree.is_within(a, s)) {
                v.add("area_unit_id", "err.out_of_scope");
            }
        }
    }
    let root = scope.and_then(|s| tree.chain(s).last().copied());
    match input.handler_unit_id.map(|h| (h, tree.kind(h))) {
        None => v.add("handler_unit_id", "err.required"),
        Some((_, None)) => v.add("handler_unit_id", "err.rule.no_unit"),
        Some((_, Some(UnitKind::County))) => v.add("handler_unit_id", "err.rule.handler_kind"),
        Some((h, Some(_))) if root.is_some_and(|r| !tree.is_within(h, r)) => {
            v.add("handler_unit_id", "err.out_of_scope")
        }
        Some(_) => {}
    }
    let limit = match input.time_limit_days {
        None => None,
        Some(d) if (0..=i64::from(MAX_TIME_LIMIT_DAYS)).contains(&d) => i32::try_from(d).ok(),
        Some(_) => {
            v.add("time_limit_days", "err.time_limit_range");
            None
        }
    };
    if let (Some(c), Some(a)) = (input.category_id, input.area_unit_id)
        && all(&tx)
            .await?
            .iter()
            .any(|r| r.category_id == c && r.area_unit_id == a)
    {
        v.add("category_id", "err.rule.duplicate");
    }
    v.finish()?;
    let (Some(category_id), Some(area_unit_id), Some(handler_unit_id)) =
        (input.category_id, input.area_unit_id, input.handler_unit_id)
    else {
        return Err(Error::NotFound);
    };
    let saved = routing_rule::ActiveModel {
        category_id: Set(category_id),
        area_unit_id: Set(area_unit_id),
        handler_unit_id: Set(handler_unit_id),
        time_limit_days: Set(limit),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await
    .map_err(|e| unique_as_invalid(e, "category_id", "err.rule.duplicate"))?;
    tx.commit().await?;
    Ok(saved.into())
}

/// Deletes a rule whose area lies within `scope`.
pub async fn delete(db: &DatabaseConnection, id: i32, scope: Option<i32>) -> Result<()> {
    let tx = begin_write(db).await?;
    super::lock_setup(&tx).await?;
    let rule = routing_rule::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(s) = scope
        && !units::tree(&tx).await?.is_within(rule.area_unit_id, s)
    {
        return Err(Error::NotFound);
    }
    rule.delete(&tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Routes a request from `village_id` in `category_id` by the stored rules.
pub async fn resolve(
    db: &impl ConnectionTrait,
    village_id: i32,
    category_id: i32,
) -> Result<Route> {
    let tree = units::tree(db).await?;
    if tree.kind(village_id).is_none() {
        return Err(Error::NotFound);
    }
    let cats = categories::chain(db, category_id).await?;
    let cat_ids: Vec<i32> = cats.iter().map(|c| c.id).collect();
    let limit = cats.first().map(|c| c.time_limit_days).unwrap_or_default();
    Ok(routing::resolve(
        &tree.chain(village_id),
        &cat_ids,
        limit,
        tree.township_of(village_id),
        &all(db).await?,
    ))
}

/// Explains a route with `by_rule` ("由规则 {rule} 派至 {unit}") or `queued`
/// ("无匹配规则，进入 {unit} 派单员队列").
pub fn explain(
    route: &Route,
    units: &[super::units::Unit],
    cats: &[super::categories::Category],
    by_rule: &str,
    queued: &str,
) -> String {
    let unit_name = |id: i32| {
        units
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| "?".into())
    };
    match route {
        Route::Rule {
            handler_unit_id,
            matched_category_id,
            matched_area_unit_id,
            ..
        } => by_rule
            .replace(
                "{rule}",
                &format!(
                    "{}@{}",
                    super::categories::label(cats, *matched_category_id),
                    unit_name(*matched_area_unit_id)
                ),
            )
            .replace("{unit}", &unit_name(*handler_unit_id)),
        Route::Queue { township_id, .. } => queued.replace(
            "{unit}",
            &township_id.map(unit_name).unwrap_or_else(|| "?".into()),
        ),
    }
}
