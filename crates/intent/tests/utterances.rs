//! Table of utterances → what the chat understands. Now is Thursday 26 November 2026, 10:00
//! in America/New_York. A row's expectation for a question is a fragment of the question.

use chrono::TimeZone;
use intent::{understand, Context, Intent, Understanding};

fn ctx() -> Context {
    let now = chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .single()
        .expect("valid instant");
    Context { now }
}

fn when(w: &intent::When) -> String {
    let date = w.date.map_or("-".to_string(), |d| d.to_string());
    let time = w
        .time
        .map_or("-".to_string(), |t| t.format("%H:%M").to_string());
    format!("{date} {time}")
}

/// One line per understanding, so that a table row reads like the behaviour it pins.
fn summary(u: &Understanding) -> String {
    match u {
        Understanding::Clarify(c) => format!("? {}", c.question),
        Understanding::Action { intent } => match intent {
            Intent::Create(t) => {
                let what = match (&t.rule, &t.due) {
                    (Some(rule), _) => {
                        format!("rule={rule} ({})", t.describe.as_deref().unwrap_or(""))
                    }
                    (None, Some(due)) => format!("due={}", when(due)),
                    (None, None) => "no-date".to_string(),
                };
                format!("create \"{}\" {what} reminders={:?}", t.title, t.reminders)
            }
            Intent::ListDue { range } => format!("list {}", range.phrase()),
            Intent::Complete { task } => format!("complete \"{task}\""),
            Intent::Move { task, to } => format!("move \"{task}\" to {}", when(to)),
            Intent::Repeat {
                task,
                rule,
                describe,
                ..
            } => format!("repeat \"{task}\" rule={rule} ({describe})"),
            Intent::EndSeries { task, last_day } => format!("end \"{task}\" last={last_day}"),
            Intent::DeleteFuture { task } => format!("delete-future \"{task}\""),
            Intent::Delete { task } => format!("delete \"{task}\""),
            Intent::Help => "help".to_string(),
        },
    }
}

const TABLE: &[(&str, &str)] = &[
    ("add pay rent every month on the 1st at 9am", "create \"pay rent\" rule=FREQ=MONTHLY;BYMONTHDAY=1 (monthly on the 1st at 9 AM) reminders=[]"),
    ("remind me to call mom every Sunday at 6pm, 1 hour before", "create \"call mom\" rule=FREQ=WEEKLY;BYDAY=SU (every Sunday at 6 PM) reminders=[\"PT1H\"]"),
    ("what's due this week?", "list due this week"),
    ("complete team standup", "complete \"team standup\""),
    ("move dentist to Friday 3pm", "move \"dentist\" to 2026-11-27 15:00"),
    ("stop the exercise series after Dec 31", "end \"exercise\" last=2026-12-31"),
    ("delete all future gym sessions", "delete-future \"gym sessions\""),
    ("Add water plants every 3 days", "create \"water plants\" rule=FREQ=DAILY;INTERVAL=3 (every 3 days) reminders=[]"),
    ("add Team standup every weekday at 9:30am", "create \"Team standup\" rule=FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR (every weekday at 9:30 AM) reminders=[]"),
    ("create review budget every 2 weeks on Monday and Wednesday at 10am", "create \"review budget\" rule=FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE (every 2 weeks on Monday and Wednesday at 10 AM) reminders=[]"),
    ("add take out trash weekly on Tuesday", "create \"take out trash\" rule=FREQ=WEEKLY;BYDAY=TU (every Tuesday) reminders=[]"),
    ("add Mortgage payment monthly on the last Friday", "create \"Mortgage payment\" rule=FREQ=MONTHLY;BYDAY=-1FR (monthly on the last Friday) reminders=[]"),
    ("add Renew passport yearly on March 3", "create \"Renew passport\" rule=FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3 (yearly on March 3) reminders=[]"),
    ("add Backup laptop every other week on Saturday at 8pm until Dec 31", "create \"Backup laptop\" rule=FREQ=WEEKLY;INTERVAL=2;BYDAY=SA (every 2 weeks on Saturday at 8 PM until Dec 31) reminders=[]"),
    ("add stretch every hour", "create \"stretch\" rule=FREQ=HOURLY (hourly) reminders=[]"),
    ("add board meeting every month on the first Monday at 2pm for 6 times", "create \"board meeting\" rule=FREQ=MONTHLY;COUNT=6;BYDAY=1MO (monthly on the first Monday, 6 times at 2 PM) reminders=[]"),
    ("new task Quarterly report every 3 months on the 15th", "create \"Quarterly report\" rule=FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15 (every 3 months on the 15th) reminders=[]"),
    ("add gym every Monday, Wednesday and Friday at 7am, 30 minutes before", "create \"gym\" rule=FREQ=WEEKLY;BYDAY=MO,WE,FR (every Monday, Wednesday and Friday at 7 AM) reminders=[\"PT30M\"]"),
    ("remind me to take pills every day at 8am", "create \"take pills\" rule=FREQ=DAILY (daily at 8 AM) reminders=[\"PT0S\"]"),
    ("remind me to pay the electricity bill on Dec 5 at 10am, 1 day before", "create \"pay the electricity bill\" due=2026-12-05 10:00 reminders=[\"P1D\"]"),
    ("remind me to submit timesheet every Friday at 4pm, a day and an hour before", "create \"submit timesheet\" rule=FREQ=WEEKLY;BYDAY=FR (every Friday at 4 PM) reminders=[\"P1D\", \"PT1H\"]"),
    ("remind me to call the bank tomorrow at 11am", "create \"call the bank\" due=2026-11-27 11:00 reminders=[\"PT0S\"]"),
    ("remind me to call mom", "? When should I remind you to call mom?"),
    ("add dentist on Friday at 3pm", "create \"dentist\" due=2026-11-27 15:00 reminders=[]"),
    ("add buy milk", "create \"buy milk\" no-date reminders=[]"),
    ("add Buy groceries tomorrow", "create \"Buy groceries\" due=2026-11-27 - reminders=[]"),
    ("add submit report by Dec 15", "create \"submit report\" due=2026-12-15 - reminders=[]"),
    ("i need to renew car insurance next monday at noon", "create \"renew car insurance\" due=2026-11-30 12:00 reminders=[]"),
    ("add call Mark at 5pm", "create \"call Mark\" due=- 17:00 reminders=[]"),
    ("todo file taxes on 2027-04-15 at 9am", "create \"file taxes\" due=2027-04-15 09:00 reminders=[]"),
    ("add meeting at 7", "? Is that 7 in the morning or in the evening? Say 7am or 7pm."),
    ("add gym every blue moon", "? I see a repeating task, but not how \"every blue moon\""),
    ("add every day", "? What should the task be called?"),
    ("add", "? What should the task be called?"),
    ("what is due today", "list due today"),
    ("what do I have tomorrow?", "list due tomorrow"),
    ("what's overdue?", "list overdue"),
    ("show my tasks for next week", "list due next week"),
    ("list everything", "list pending"),
    ("what's on this month", "list due this month"),
    ("anything due today?", "list due today"),
    ("show overdue tasks", "list overdue"),
    ("complete pay rent", "complete \"pay rent\""),
    ("mark team standup as done", "complete \"team standup\""),
    ("mark dentist done", "complete \"dentist\""),
    ("finish the weekly review", "complete \"weekly review\""),
    ("I did the laundry", "complete \"laundry\""),
    ("check off buy milk", "complete \"buy milk\""),
    ("done with Gym session", "complete \"Gym session\""),
    ("move dentist to 5pm", "move \"dentist\" to - 17:00"),
    ("reschedule standup for tomorrow at 9am", "move \"standup\" to 2026-11-27 09:00"),
    ("postpone taxes until next friday", "move \"taxes\" to 2026-11-27 -"),
    ("move laundry to Dec 12", "move \"laundry\" to 2026-12-12 -"),
    ("move dentist to 7", "? \"7\" is not a date or time I know. When should \"dentist\" be"),
    ("move dentist", "? When should \"dentist\" be due? For example \"move dentist to"),
    ("push the report to Monday 10am", "move \"report\" to 2026-11-30 10:00"),
    ("stop the exercise series", "? Should I stop \"exercise\" now, deleting all future"),
    ("end gym on Jan 5", "end \"gym\" last=2027-01-05"),
    ("stop the exercise series after Jan 6, 2027", "end \"exercise\" last=2027-01-06"),
    ("stop the standup series after 2027-01-31", "end \"standup\" last=2027-01-31"),
    ("delete the gym series", "delete-future \"gym\""),
    ("delete gym and all future ones", "delete-future \"gym\""),
    ("remove all upcoming team standups", "delete-future \"team standups\""),
    ("cancel dentist", "delete \"dentist\""),
    ("delete", "? Which task do you mean?"),
    ("help", "help"),
    ("hello", "help"),
    ("what can you do", "help"),
    ("sing me a song", "? Sorry, I did not understand that. You can say for example:"),
    ("add take out the trash every wednesday at 7:30", "? Is that 7 in the morning or in the evening? Say 7am or 7pm."),
    ("take out the trash every wednesday at 7:30pm", "? Do you want me to add \"take out the trash\" every Wednesday"),
    ("add yoga each Tuesday and Thursday at 6:15pm", "create \"yoga\" rule=FREQ=WEEKLY;BYDAY=TU,TH (every Tuesday and Thursday at 6:15 PM) reminders=[]"),
    ("remind me to stretch every 2 hours", "create \"stretch\" rule=FREQ=HOURLY;INTERVAL=2 (every 2 hours) reminders=[\"PT0S\"]"),
    ("add Review goals monthly on the last day", "create \"Review goals\" rule=FREQ=MONTHLY;BYMONTHDAY=-1 (monthly on the last day) reminders=[]"),
    ("What’s due next week?", "list due next week"),
    // The phrase grammar in chat commands.
    ("remind me every first Monday of the month at 9am to pay rent", "create \"pay rent\" rule=FREQ=MONTHLY;BYDAY=1MO (monthly on the first Monday at 9 AM) reminders=[\"PT0S\"]"),
    ("remind me every first Monday of the month at 9 to pay rent", "? Is that 9 in the morning or in the evening?"),
    ("remind me every other Friday at 5pm to water the plants", "create \"water the plants\" rule=FREQ=WEEKLY;INTERVAL=2;BYDAY=FR (every 2 weeks on Friday at 5 PM) reminders=[\"PT0S\"]"),
    ("add pay rent on the last weekday of every month", "create \"pay rent\" rule=FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1 (monthly on the last weekday) reminders=[]"),
    ("add file taxes every March and September on the 10th", "create \"file taxes\" rule=FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=10 (yearly in March and September on the 10th) reminders=[]"),
    ("add check the smoke alarm quarterly", "create \"check the smoke alarm\" rule=FREQ=MONTHLY;INTERVAL=3 (every 3 months) reminders=[]"),
    ("add gym twice a week on Monday and Thursday at 7am", "create \"gym\" rule=FREQ=WEEKLY;BYDAY=MO,TH (every Monday and Thursday at 7 AM) reminders=[]"),
    ("add team retro biweekly on Friday", "create \"team retro\" rule=FREQ=WEEKLY;INTERVAL=2;BYDAY=FR (every 2 weeks on Friday) reminders=[]"),
    ("add dentist checkup semi-annually", "create \"dentist checkup\" rule=FREQ=MONTHLY;INTERVAL=6 (every 6 months) reminders=[]"),
    ("add standup every mon, wed & fri at 9:15am", "create \"standup\" rule=FREQ=WEEKLY;BYDAY=MO,WE,FR (every Monday, Wednesday and Friday at 9:15 AM) reminders=[]"),
    ("add vitamins every day at 8am for 30 times", "create \"vitamins\" rule=FREQ=DAILY;COUNT=30 (daily, 30 times at 8 AM) reminders=[]"),
    ("move my standup to every other Tuesday", "repeat \"standup\" rule=FREQ=WEEKLY;INTERVAL=2;BYDAY=TU (every 2 weeks on Tuesday)"),
    ("change rent to the first Monday of every month", "repeat \"rent\" rule=FREQ=MONTHLY;BYDAY=1MO (monthly on the first Monday)"),
    ("make gym repeat every weekday at 7am", "repeat \"gym\" rule=FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR (every weekday at 7 AM)"),
    ("move the newsletter to monthly on the last day", "repeat \"newsletter\" rule=FREQ=MONTHLY;BYMONTHDAY=-1 (monthly on the last day)"),
    ("move dentist to the 15th", "? \"the 15th\" is not a date or time I know"),
    ("stop repeating the rent task after June", "end \"rent\" last=2027-06-30"),
    ("stop the gym series at the end of January", "end \"gym\" last=2027-01-31"),
    ("stop recurring water plants after Dec 31", "end \"water plants\" last=2026-12-31"),
];

#[test]
fn utterances_are_understood() {
    let mut failures = Vec::new();
    for (utterance, expected) in TABLE {
        let got = summary(&understand(utterance, &ctx()));
        println!("{utterance:?} => {got}");
        if !got.starts_with(expected) {
            failures.push(format!(
                "{utterance:?}\n   expected: {expected}\n   got:      {got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows differ:\n{}",
        failures.len(),
        TABLE.len(),
        failures.join("\n")
    );
}
