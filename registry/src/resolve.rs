//! Version resolution: a requirement picks the highest non-yanked match.
//!
//! Requirements use Cargo's syntax (`^1.2`, `~1.2.3`, `=1.0.0`,
//! `>=1, <2`, `*`, and a bare `1.2` meaning `^1.2`). A pre-release matches
//! only when the requirement names a pre-release of the same
//! `major.minor.patch`, as in Cargo. Yanked versions never match a new
//! resolution; installs already on them keep running them.

use semver::{Version, VersionReq};

/// One published version as resolution sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The version.
    pub version: Version,
    /// Whether it was yanked.
    pub yanked: bool,
}

/// Why a requirement resolved to nothing.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Not a version requirement.
    #[error(
        "`{requirement}` is not a version requirement ({reason}); use e.g. ^1.2, ~1.2.3, =1.0.0, >=1, <2 or *"
    )]
    InvalidRequirement {
        /// What was given.
        requirement: String,
        /// The parser's reason.
        reason: String,
    },
    /// Nothing matches.
    #[error("no version matches `{requirement}`{}", available_list(.available, .yanked_matches))]
    NoMatch {
        /// What was given.
        requirement: String,
        /// Every non-yanked version, highest first.
        available: Vec<String>,
        /// Yanked versions that would have matched.
        yanked_matches: Vec<String>,
    },
}

fn available_list(available: &[String], yanked: &[String]) -> String {
    let mut text = if available.is_empty() {
        " (no versions are available)".to_owned()
    } else {
        format!(" (available: {})", available.join(", "))
    };
    if !yanked.is_empty() {
        text.push_str(&format!(
            "; yanked and so not resolvable: {}",
            yanked.join(", ")
        ));
    }
    text
}

/// Parses a requirement, with an error that says what is accepted.
pub fn parse_requirement(requirement: &str) -> Result<VersionReq, ResolveError> {
    VersionReq::parse(requirement.trim()).map_err(|e| ResolveError::InvalidRequirement {
        requirement: requirement.to_owned(),
        reason: e.to_string(),
    })
}

/// The highest non-yanked version in `published` that `requirement` admits.
pub fn resolve(requirement: &str, published: &[Published]) -> Result<Version, ResolveError> {
    let req = parse_requirement(requirement)?;
    let best = published
        .iter()
        .filter(|p| !p.yanked && req.matches(&p.version))
        .map(|p| &p.version)
        .max();
    match best {
        Some(version) => Ok(version.clone()),
        None => {
            let mut available: Vec<&Version> = published
                .iter()
                .filter(|p| !p.yanked)
                .map(|p| &p.version)
                .collect();
            available.sort_by(|a, b| b.cmp(a));
            Err(ResolveError::NoMatch {
                requirement: requirement.to_owned(),
                available: available.iter().map(|v| v.to_string()).collect(),
                yanked_matches: published
                    .iter()
                    .filter(|p| p.yanked && req.matches(&p.version))
                    .map(|p| p.version.to_string())
                    .collect(),
            })
        }
    }
}

/// Whether `requirement` admits `version` (for automatic upgrades).
pub fn admits(requirement: &str, version: &Version) -> Result<bool, ResolveError> {
    Ok(parse_requirement(requirement)?.matches(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(list: &[(&str, bool)]) -> Vec<Published> {
        list.iter()
            .map(|(v, yanked)| Published {
                version: Version::parse(v).unwrap(),
                yanked: *yanked,
            })
            .collect()
    }

    fn pick(req: &str, list: &[(&str, bool)]) -> String {
        resolve(req, &published(list)).unwrap().to_string()
    }

    const VERSIONS: &[(&str, bool)] = &[
        ("1.0.0", false),
        ("1.2.0", false),
        ("1.2.5", false),
        ("1.3.0", true),
        ("1.4.0-beta.1", false),
        ("2.0.0", false),
    ];

    #[test]
    fn picks_the_highest_non_yanked_match() {
        assert_eq!(pick("^1.2", VERSIONS), "1.2.5");
        assert_eq!(pick("~1.2.3", VERSIONS), "1.2.5");
        assert_eq!(pick("=1.0.0", VERSIONS), "1.0.0");
        assert_eq!(pick(">=1, <2", VERSIONS), "1.2.5");
        assert_eq!(pick("*", VERSIONS), "2.0.0");
        assert_eq!(pick("1", VERSIONS), "1.2.5");
    }

    #[test]
    fn pre_releases_only_when_asked_for() {
        assert_eq!(pick(">=1.4.0-beta.1", VERSIONS), "2.0.0");
        assert_eq!(pick("=1.4.0-beta.1", VERSIONS), "1.4.0-beta.1");
        assert_eq!(pick(">=1.4.0-beta.1, <2", VERSIONS), "1.4.0-beta.1");
    }

    #[test]
    fn explains_what_does_not_resolve() {
        let err = resolve("=1.3.0", &published(VERSIONS)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no version matches `=1.3.0` (available: 2.0.0, 1.4.0-beta.1, 1.2.5, 1.2.0, 1.0.0); yanked and so not resolvable: 1.3.0"
        );
        let err = resolve("^3", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no version matches `^3` (no versions are available)"
        );
        assert!(matches!(
            resolve("banana", &published(VERSIONS)),
            Err(ResolveError::InvalidRequirement { .. })
        ));
    }

    #[test]
    fn admits_follows_the_requirement() {
        assert!(admits("^1.2", &Version::new(1, 9, 0)).unwrap());
        assert!(!admits("^1.2", &Version::new(2, 0, 0)).unwrap());
        assert!(!admits("~1.2", &Version::new(1, 3, 0)).unwrap());
    }
}
