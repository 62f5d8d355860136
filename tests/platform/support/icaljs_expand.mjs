// Expands the VTODOs of one UID in an iCalendar file with ical.js (an independent reader):
// reads the calendar on stdin and prints one JSON array of {start, summary, status} (start in
// UTC, RFC 3339) for the instances starting in [from, to).
//   ICALJS=<path of ical.js's dist/ical.js> node icaljs_expand.mjs <uid> <from> <to> < calendar.ics
// (scripts/setup.sh icaljs installs the pinned ical.js under .tools/icaljs.)
import { pathToFileURL } from "node:url";

const ICAL = (await import(pathToFileURL(process.env.ICALJS).href)).default;

const [uid, from, to] = process.argv.slice(2);
const text = await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (c) => (data += c));
  process.stdin.on("end", () => resolve(data));
});
const calendar = new ICAL.Component(ICAL.parse(text));
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtimezone);
}
const todos = calendar.getAllSubcomponents("vtodo").filter((t) => t.getFirstPropertyValue("uid") === uid);
const master = todos.find((t) => !t.hasProperty("recurrence-id"));
const exceptions = todos.filter((t) => t.hasProperty("recurrence-id"));
const start = ICAL.Time.fromJSDate(new Date(from), true);
const end = ICAL.Time.fromJSDate(new Date(to), true);
const out = [];
if (master) {
  const event = new ICAL.Event(master, { exceptions });
  const it = event.iterator();
  for (let next = it.next(); next; next = it.next()) {
    const details = event.getOccurrenceDetails(next);
    const begins = details.startDate.toJSDate();
    if (next.toJSDate() >= end.toJSDate() && begins >= end.toJSDate()) break;
    if (begins >= start.toJSDate() && begins < end.toJSDate()) {
      const item = details.item.component;
      out.push({
        start: begins.toISOString().replace(".000Z", "Z"),
        summary: item.getFirstPropertyValue("summary"),
        status: item.getFirstPropertyValue("status"),
      });
    }
    if (out.length > 1000) break;
  }
}
out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
console.log(JSON.stringify(out));
