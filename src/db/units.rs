//! Units: the tree of places and offices.

use super::entities::unit;
use super::{Error, Result, begin_write, unique_as_invalid};
use crate::domain::unit::{UnitKind, UnitTree};
use crate::domain::{Validation, error::required_text};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};

/// A unit as the rest of the app sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Unit {
    /// Id.
    pub id: i32,
    /// Name, e.g. 金星村.
    pub name: String,
    /// Kind.
    #[schema(value_type = String, example = "village")]
    pub kind: UnitKind,
    /// Parent unit.
    pub parent_id: Option<i32>,
}

impl From<unit::Model> for Unit {
    fn from(m: unit::Model) -> Self {
        Unit {
            id: m.id,
            name: m.name,
            kind: UnitKind::parse(&m.kind).unwrap_or(UnitKind::Office),
            parent_id: m.parent_id,
        }
    }
}

/// Every unit, ordered by id.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Unit>> {
    Ok(unit::Entity::find()
        .order_by_asc(unit::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Unit::from)
        .collect())
}

/// One unit.
pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<Unit> {
    unit::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Unit::from)
        .ok_or(Error::NotFound)
}

/// The whole tree (parents and kinds), for scope and routing checks.
pub async fn tree(db: &impl ConnectionTrait) -> Result<UnitTree> {
    Ok(tree_of(&all(db).await?))
}

/// Builds the tree from loaded units.
pub fn tree_of(units: &[Unit]) -> UnitTree {
    UnitTree::new(units.iter().map(|u| (u.id, u.parent_id, u.kind)))
}

/// Input for creating or editing a unit.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct UnitInput {
    #[schema(required = true)]
    /// Name.
    pub name: String,
    /// Kind name (`county`, `township`, `village`, `office`).
    pub kind: String,
    /// Parent id.
    pub parent_id: Option<i32>,
}

/// Validates and saves a unit (new when `id` is `None`). `scope` is the
/// acting user's unit: the parent (or, at the top, the scope root itself)
/// must lie within it.
pub async fn save(
    db: &DatabaseConnection,
    id: Option<i32>,
    input: &UnitInput,
    scope: Option<i32>,
) -> Result<Unit> {
    let tx = begin_write(db).await?;
    super::lock_setup(&tx).await?;
    let tree = tree(&tx).await?;
    let mut v = Validation::new();
    let name = required_text(&mut v, "name", &input.name, 50);
    let kind = UnitKind::parse(&input.kind);
    if kind.is_none() {
        v.add("kind", "err.unit.kind");
    }
    if let Some(existing) = id {
        if tree.kind(existing).is_none() {
            return Err(Error::NotFound);
        }
        if let Some(s) = scope
            && !tree.is_within(existing, s)
        {
            return Err(Error::NotFound);
        }
        if scope == Some(existing) && input.parent_id != tree.parent(existing) {
            // Moving one's own root would take it out of one's own scope.
            v.add("parent_id", "err.out_of_scope");
        }
    }
    if let Some(s) = scope {
        match input.parent_id {
            Some(p) if tree.kind(p).is_some() && !tree.is_within(p, s) => {
                v.add("parent_id", "err.out_of_scope")
            }
            None if id != Some(s) => v.add("parent_id", "err.out_of_scope"),
            _ => {}
        }
    }
    if let Some(k) = kind
        && v.for_field("parent_id").is_none()
        && let Err(e) = tree.check_placement(id, k, input.parent_id)
    {
        v.add("parent_id", e.key());
    }
    if let Some(n) = &name {
        let clash = unit::Entity::find()
            .filter(unit::Column::Name.eq(n.as_str()))
            .filter(match input.parent_id {
                Some(p) => unit::Column::ParentId.eq(p),
                None => unit::Column::ParentId.is_null(),
            })
            .one(&tx)
            .await?;
        if clash.is_some_and(|c| Some(c.id) != id) {
            v.add("name", "err.unit.duplicate");
        }
    }
    v.finish()?;
    let (Some(name), Some(kind)) = (name, kind) else {
        return Err(Error::NotFound);
    };
    let saved = match id {
        None => unit::ActiveModel {
            name: Set(name),
            kind: Set(kind.as_str().to_owned()),
            parent_id: Set(input.parent_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&tx)
        .await
        .map_err(|e| unique_as_invalid(e, "name", "err.unit.duplicate"))?,
        Some(existing) => unit::ActiveModel {
            id: Set(existing),
            name: Set(name),
            kind: Set(kind.as_str().to_owned()),
            parent_id: Set(input.parent_id),
            ..Default::default()
        }
        .update(&tx)
        .await
        .map_err(|e| unique_as_invalid(e, "name", "err.unit.duplicate"))?,
    };
    tx.commit().await?;
    Ok(saved.into())
}

/// The first top-level unit, created (a county named 本级单位, to be renamed)
/// when the tree is empty, so that a first administrator has a home.
pub async fn top_level_or_create(db: &DatabaseConnection) -> Result<i32> {
    let tx = begin_write(db).await?;
    super::lock_setup(&tx).await?;
    if let Some(u) = unit::Entity::find()
        .filter(unit::Column::ParentId.is_null())
        .order_by_asc(unit::Column::Id)
        .one(&tx)
        .await?
    {
        return Ok(u.id);
    }
    let created = unit::ActiveModel {
        name: Set("本级单位".to_owned()),
        kind: Set(UnitKind::County.as_str().to_owned()),
        parent_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(created.id)
}
