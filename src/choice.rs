//! Settings that take one of a few named values (an output format, a codec, a category): each
//! type lists its names here, beside itself, and the command line offers and parses them from
//! that list (`cli.rs`), so that no library module knows the argument parser.

/// A type whose values are chosen by name.
pub trait Named: Sized + Copy + PartialEq + Send + Sync + 'static {
    /// Each value: its name, the value, and a line of help (empty for none).
    const NAMES: &'static [(&'static str, Self, &'static str)];

    /// The value named `name` (in any case).
    fn from_name(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, ..)| n.eq_ignore_ascii_case(name)).map(|(_, value, _)| *value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_are_unique<T: Named + std::fmt::Debug>() {
        for (i, (name, value, _)) in T::NAMES.iter().enumerate() {
            assert_eq!(T::from_name(name), Some(*value));
            assert!(T::NAMES[i + 1..].iter().all(|(n, ..)| !n.eq_ignore_ascii_case(name)), "{name} twice");
        }
    }

    #[test]
    fn every_choice_is_named_once() {
        names_are_unique::<crate::category::Category>();
        names_are_unique::<crate::output::OutputFormat>();
        names_are_unique::<crate::export::ExportFormat>();
        names_are_unique::<crate::export::ExportCompression>();
        names_are_unique::<crate::export::PartitionBy>();
        names_are_unique::<crate::sync::SyncFormat>();
        names_are_unique::<crate::source::carto::wire::FileFormat>();
    }
}
