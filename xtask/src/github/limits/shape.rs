//! The text pass of the limits: every counted array's length, read from the file's text
//! without building its tree (serde visits the arrays and skips their elements).

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Counts, LimitError, Part};

/// Counts every [`Part`] without building the file's tree. Call [`scan`] first: this pass
/// recurses as deep as the file nests.
pub fn count(path: &Path, text: &str) -> Result<Counts, LimitError> {
    let shape: Shape = serde_json::from_str(text).map_err(|source| LimitError::Shape {
        path: path.to_owned(),
        source: source.into(),
    })?;
    let mut counts = Counts::default();
    counts.add(Part::Configurations, shape.configurations.count);
    counts.add(Part::Samples, shape.configurations.samples);
    counts.add(Part::CounterSamples, shape.configurations.counter_samples);
    shape.configurations.profiles.add_to(&mut counts);
    if let Some(paired) = shape.paired {
        counts.add(Part::Samples, paired.samples.0);
        counts.add(Part::CounterSamples, paired.counter_samples.0);
        for profile in paired.base_profiles.0 {
            profile.roles.add_to(&mut counts);
        }
        if let Some(dependencies) = paired.dependencies {
            counts.add(Part::DependencyChanges, dependencies.changes.0);
        }
    }
    counts.add(Part::Failures, shape.failures.0);
    Ok(counts)
}

/// The parts of a results file that are counted; every other field is skipped.
#[derive(Deserialize)]
struct Shape {
    #[serde(default)]
    configurations: Configurations,
    #[serde(default)]
    failures: Count,
    #[serde(default)]
    paired: Option<PairedShape>,
}

#[derive(Deserialize)]
struct PairedShape {
    #[serde(default)]
    samples: Count,
    #[serde(default)]
    counter_samples: Count,
    #[serde(default)]
    base_profiles: Values<ProfileShape>,
    #[serde(default)]
    dependencies: Option<DependenciesShape>,
}

#[derive(Deserialize)]
struct ConfigurationShape {
    #[serde(default)]
    samples: Count,
    #[serde(default)]
    counter_samples: Count,
    #[serde(default)]
    profile: Option<ProfileShape>,
}

/// A configuration's profiles (`RoleProfiles`): one per role.
#[derive(Deserialize)]
struct ProfileShape {
    #[serde(default)]
    roles: Values<RoleProfileShape>,
}

/// One role's profile: its functions and stacks.
#[derive(Deserialize)]
struct RoleProfileShape {
    #[serde(default)]
    functions: Count,
    #[serde(default)]
    stacks: Option<StacksShape>,
}

#[derive(Deserialize)]
struct StacksShape {
    #[serde(default)]
    names: Count,
    #[serde(default)]
    stacks: Count,
}

#[derive(Deserialize)]
struct DependenciesShape {
    #[serde(default)]
    changes: Count,
}

/// The role profiles, function names and stacks counted so far.
#[derive(Default)]
struct ProfileCounts {
    roles: usize,
    functions: usize,
    stacks: usize,
}

impl ProfileCounts {
    fn add(&mut self, roles: &Values<RoleProfileShape>) {
        for role in &roles.0 {
            self.roles += 1;
            self.functions += role.functions.0;
            if let Some(stacks) = &role.stacks {
                self.functions += stacks.names.0;
                self.stacks += stacks.stacks.0;
            }
        }
    }

    fn add_to(&self, counts: &mut Counts) {
        counts.add(Part::RoleProfiles, self.roles);
        counts.add(Part::Functions, self.functions);
        counts.add(Part::Stacks, self.stacks);
    }
}

impl Values<RoleProfileShape> {
    fn add_to(&self, counts: &mut Counts) {
        let mut profiles = ProfileCounts::default();
        profiles.add(self);
        profiles.add_to(counts);
    }
}

/// The values of a JSON object, its keys skipped. Every entry counts, also one whose key
/// repeats another's (the parsed file keeps only the last; [`MAX_VALUES`] bounds both).
struct Values<T>(Vec<T>);

impl<T> Default for Values<T> {
    fn default() -> Self {
        Values(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Values<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ValuesVisitor<T> {
            type Value = Values<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Values<T>, A::Error> {
                let mut values = Vec::new();
                while let Some((_, value)) = map.next_entry::<IgnoredAny, T>()? {
                    values.push(value);
                }
                Ok(Values(values))
            }
        }
        deserializer.deserialize_map(ValuesVisitor(std::marker::PhantomData))
    }
}

/// The length of a JSON array whose elements are skipped.
#[derive(Default)]
struct Count(usize);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;
        impl<'de> Visitor<'de> for CountVisitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Count, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Count(n))
            }
        }
        deserializer.deserialize_seq(CountVisitor)
    }
}

/// The configurations array: how many, and their samples, counting runs and profiles
/// together.
#[derive(Default)]
struct Configurations {
    count: usize,
    samples: usize,
    counter_samples: usize,
    profiles: ProfileCounts,
}

impl<'de> Deserialize<'de> for Configurations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ConfigurationsVisitor;
        impl<'de> Visitor<'de> for ConfigurationsVisitor {
            type Value = Configurations;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of configurations")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Configurations, A::Error> {
                let mut out = Configurations::default();
                while let Some(config) = seq.next_element::<ConfigurationShape>()? {
                    out.count += 1;
                    out.samples += config.samples.0;
                    out.counter_samples += config.counter_samples.0;
                    if let Some(profile) = &config.profile {
                        out.profiles.add(&profile.roles);
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_seq(ConfigurationsVisitor)
    }
}
