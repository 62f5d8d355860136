//! Which of the user's tasks a command names: "complete team standup", "delete all future gym
//! sessions". Several instances of one series count as one match.

/// A candidate task, as the chat lists the user's pending tasks (earliest due first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRef {
    /// Task id.
    pub task_id: String,
    /// Title.
    pub title: String,
    /// Series, if recurring.
    pub series_id: Option<String>,
}

/// The outcome of [`match_task`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskMatch<'a> {
    /// Exactly one task (or series) fits; for a series, its earliest listed instance.
    One(&'a TaskRef),
    /// Nothing fits.
    None,
    /// Several different tasks fit; ask which.
    Many(Vec<&'a TaskRef>),
}

impl TaskMatch<'_> {
    /// The clarifying question for `None` and `Many`, naming what the user said.
    pub fn question(&self, name: &str) -> Option<String> {
        match self {
            TaskMatch::One(_) => None,
            TaskMatch::None => Some(format!(
                "I could not find a pending task called \"{name}\". Which task do you mean?"
            )),
            TaskMatch::Many(tasks) => {
                let titles: Vec<String> =
                    tasks.iter().map(|t| format!("\"{}\"", t.title)).collect();
                Some(format!("Which one do you mean: {}?", titles.join(", ")))
            }
        }
    }
}

/// Finds the task `name` refers to: an exact (normalised) title wins; otherwise every word of
/// the name must appear in the title. Plurals and letter case do not matter.
pub fn match_task<'a>(name: &str, tasks: &'a [TaskRef]) -> TaskMatch<'a> {
    let wanted = normalise(name);
    if wanted.is_empty() {
        return TaskMatch::None;
    }
    let exact: Vec<&TaskRef> = tasks
        .iter()
        .filter(|t| normalise(&t.title) == wanted)
        .collect();
    let found = if exact.is_empty() {
        tasks
            .iter()
            .filter(|t| {
                let title = normalise(&t.title);
                wanted.iter().all(|w| title.contains(w))
            })
            .collect()
    } else {
        exact
    };
    let mut distinct: Vec<&TaskRef> = Vec::new();
    for t in found {
        let same = |d: &&TaskRef| match (&d.series_id, &t.series_id) {
            (Some(a), Some(b)) => a == b,
            _ => d.task_id == t.task_id,
        };
        if !distinct.iter().any(same) {
            distinct.push(t);
        }
    }
    match distinct.len() {
        0 => TaskMatch::None,
        1 => TaskMatch::One(distinct[0]),
        _ => TaskMatch::Many(distinct),
    }
}

/// Lower-case words without articles, punctuation or plural endings.
fn normalise(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !matches!(w.as_str(), "the" | "a" | "an" | "my"))
        .map(|w| singular(&w))
        .collect()
}

fn singular(w: &str) -> String {
    if w.len() > 4 && (w.ends_with("sses") || w.ends_with("ches") || w.ends_with("shes")) {
        w[..w.len() - 2].to_string()
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        w[..w.len() - 1].to_string()
    } else {
        w.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, title: &str, series: Option<&str>) -> TaskRef {
        TaskRef {
            task_id: id.into(),
            title: title.into(),
            series_id: series.map(str::to_string),
        }
    }

    #[test]
    fn plural_names_match_a_series_once() {
        let tasks = [
            task("1", "Gym session", Some("s1")),
            task("2", "Gym session", Some("s1")),
            task("3", "Pack gym bag", None),
        ];
        assert_eq!(
            match_task("gym sessions", &tasks),
            TaskMatch::One(&tasks[0])
        );
        assert_eq!(
            match_task("Pack Gym Bag", &tasks),
            TaskMatch::One(&tasks[2])
        );
    }

    #[test]
    fn several_different_tasks_make_a_question() {
        let tasks = [task("1", "Call mom", None), task("2", "Call dentist", None)];
        let m = match_task("call", &tasks);
        assert_eq!(m, TaskMatch::Many(vec![&tasks[0], &tasks[1]]));
        assert_eq!(
            m.question("call").as_deref(),
            Some("Which one do you mean: \"Call mom\", \"Call dentist\"?")
        );
        assert_eq!(match_task("taxes", &tasks), TaskMatch::None);
        assert_eq!(match_task("the", &tasks), TaskMatch::None);
    }

    #[test]
    fn an_exact_title_beats_a_longer_one() {
        let tasks = [task("1", "Standup", None), task("2", "Standup notes", None)];
        assert_eq!(match_task("standup", &tasks), TaskMatch::One(&tasks[0]));
    }
}
