//! The unit tree: places (county › township › village) and offices.

use std::collections::HashMap;

/// Kind of a unit in the one tree of places and offices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 区县
    County,
    /// 镇街
    Township,
    /// 村居
    Village,
    /// 部门/站所, under a county or a township.
    Office,
}

impl UnitKind {
    /// Every kind, in display order.
    pub const ALL: [UnitKind; 4] = [
        UnitKind::County,
        UnitKind::Township,
        UnitKind::Village,
        UnitKind::Office,
    ];

    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::County => "county",
            UnitKind::Township => "township",
            UnitKind::Village => "village",
            UnitKind::Office => "office",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// Whether a unit of this kind may hang under a parent of `parent` kind
    /// (`None`: at the top of the tree).
    pub fn may_hang_under(self, parent: Option<UnitKind>) -> bool {
        use UnitKind::*;
        matches!(
            (self, parent),
            (County, None)
                | (Township, None | Some(County))
                | (Village, Some(Township))
                | (Office, Some(County | Township))
        )
    }

    /// Whether this kind is a place residents live in (routing areas).
    pub fn is_place(self) -> bool {
        !matches!(self, UnitKind::Office)
    }
}

/// The parent links of the whole tree, enough to answer ancestry questions.
#[derive(Debug, Clone, Default)]
pub struct UnitTree {
    parent: HashMap<i32, Option<i32>>,
    kind: HashMap<i32, UnitKind>,
}

impl UnitTree {
    /// Builds the tree from `(id, parent_id, kind)` rows.
    pub fn new(rows: impl IntoIterator<Item = (i32, Option<i32>, UnitKind)>) -> Self {
        let mut t = UnitTree::default();
        for (id, parent, kind) in rows {
            t.parent.insert(id, parent);
            t.kind.insert(id, kind);
        }
        t
    }

    /// Kind of a unit, if it exists.
    pub fn kind(&self, id: i32) -> Option<UnitKind> {
        self.kind.get(&id).copied()
    }

    /// Parent of a unit, if it exists and has one.
    pub fn parent(&self, id: i32) -> Option<i32> {
        self.parent.get(&id).copied().flatten()
    }

    /// `id` then each ancestor up to the root. Stops on a (corrupt) cycle.
    pub fn chain(&self, id: i32) -> Vec<i32> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            if out.contains(&c) || !self.kind.contains_key(&c) {
                break;
            }
            out.push(c);
            cur = self.parent(c);
        }
        out
    }

    /// Whether `id` is `ancestor` or lies below it.
    pub fn is_within(&self, id: i32, ancestor: i32) -> bool {
        self.chain(id).contains(&ancestor)
    }

    /// The nearest township at or above `id`.
    pub fn township_of(&self, id: i32) -> Option<i32> {
        self.chain(id)
            .into_iter()
            .find(|u| self.kind(*u) == Some(UnitKind::Township))
    }

    /// Every unit in the subtree of `root`, `root` included.
    pub fn subtree(&self, root: i32) -> Vec<i32> {
        let mut ids: Vec<i32> = self
            .kind
            .keys()
            .copied()
            .filter(|id| self.is_within(*id, root))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Checks that `unit` (existing, or `None` for a new one) of `kind` may be
    /// placed under `new_parent`: the parent exists, kinds fit, and no cycle.
    pub fn check_placement(
        &self,
        unit: Option<i32>,
        kind: UnitKind,
        new_parent: Option<i32>,
    ) -> Result<(), PlacementError> {
        let parent_kind = match new_parent {
            None => None,
            Some(p) => Some(self.kind(p).ok_or(PlacementError::NoSuchParent)?),
        };
        if let (Some(u), Some(p)) = (unit, new_parent)
            && self.is_within(p, u)
        {
            return Err(PlacementError::Cycle);
        }
        if !kind.may_hang_under(parent_kind) {
            return Err(PlacementError::KindMismatch);
        }
        if let Some(u) = unit {
            // Children must still fit under the moved unit's kind.
            for (child, parent) in &self.parent {
                if *parent == Some(u)
                    && let Some(ck) = self.kind(*child)
                    && !ck.may_hang_under(Some(kind))
                {
                    return Err(PlacementError::ChildrenDoNotFit);
                }
            }
        }
        Ok(())
    }
}

/// Why a unit can't be placed where asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// The parent does not exist.
    #[error("parent unit does not exist")]
    NoSuchParent,
    /// The parent is the unit itself or one of its descendants.
    #[error("a unit cannot be placed under itself or its descendants")]
    Cycle,
    /// e.g. a village directly under a county.
    #[error("this kind of unit cannot hang under that parent")]
    KindMismatch,
    /// The unit's existing children would no longer fit.
    #[error("the unit's children would not fit under its new kind")]
    ChildrenDoNotFit,
}

impl PlacementError {
    /// i18n key of the message.
    pub fn key(self) -> &'static str {
        match self {
            PlacementError::NoSuchParent => "err.unit.no_parent",
            PlacementError::Cycle => "err.unit.cycle",
            PlacementError::KindMismatch => "err.unit.kind_mismatch",
            PlacementError::ChildrenDoNotFit => "err.unit.children_mismatch",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UnitKind::*;
    use super::*;

    fn tree() -> UnitTree {
        // 1 闵行区 › 2 马桥镇 › 3 金星村; 4 城建办 under 2; 5 另一镇 › 6 村
        UnitTree::new([
            (1, None, County),
            (2, Some(1), Township),
            (3, Some(2), Village),
            (4, Some(2), Office),
            (5, Some(1), Township),
            (6, Some(5), Village),
        ])
    }

    #[test]
    fn kinds_hang_only_under_their_proper_parents() {
        let table = [
            (County, None, true),
            (County, Some(County), false),
            (Township, None, true),
            (Township, Some(County), true),
            (Township, Some(Township), false),
            (Village, Some(Township), true),
            (Village, Some(County), false),
            (Village, None, false),
            (Office, Some(County), true),
            (Office, Some(Township), true),
            (Office, Some(Village), false),
            (Office, None, false),
        ];
        for (kind, parent, ok) in table {
            assert_eq!(kind.may_hang_under(parent), ok, "{kind:?} under {parent:?}");
        }
    }

    #[test]
    fn chain_walks_up_to_the_root() {
        let t = tree();
        assert_eq!(t.chain(3), vec![3, 2, 1]);
        assert_eq!(t.township_of(3), Some(2));
        assert_eq!(t.township_of(4), Some(2));
        assert_eq!(t.township_of(1), None);
        assert!(t.is_within(3, 1));
        assert!(!t.is_within(6, 2));
        assert_eq!(t.subtree(2), vec![2, 3, 4]);
    }

    #[test]
    fn moving_a_unit_under_its_descendant_is_a_cycle() {
        let t = tree();
        assert_eq!(
            t.check_placement(Some(2), Township, Some(3)),
            Err(PlacementError::Cycle)
        );
        assert_eq!(
            t.check_placement(Some(2), Township, Some(2)),
            Err(PlacementError::Cycle)
        );
    }

    #[test]
    fn placement_checks_parent_existence_and_kinds() {
        let t = tree();
        assert_eq!(
            t.check_placement(None, Village, Some(99)),
            Err(PlacementError::NoSuchParent)
        );
        assert_eq!(
            t.check_placement(None, Village, Some(1)),
            Err(PlacementError::KindMismatch)
        );
        assert_eq!(t.check_placement(Some(3), Village, Some(5)), Ok(()));
        assert_eq!(
            t.check_placement(Some(3), Village, Some(1)),
            Err(PlacementError::KindMismatch)
        );
        assert_eq!(
            t.check_placement(Some(2), Village, Some(5)),
            Err(PlacementError::ChildrenDoNotFit)
        );
        assert_eq!(
            t.check_placement(Some(2), County, None),
            Err(PlacementError::ChildrenDoNotFit)
        );
    }
}
