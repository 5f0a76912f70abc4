// HighLevel's official JavaScript SDK (@gohighlevel/api-client) against a running Keyhouse.
// Run by tests/api/test_sdks.py: only the base URL and the key differ from a HighLevel
// integration; every other setting is the SDK's default (Version 2023-02-21, its HTTP client).
// Prints one JSON object: each call's answer by name (or {"error": status, "body": ...}).
const { HighLevel } = require("@gohighlevel/api-client");

const env = process.env;
// The base URL: a static property (its types mark it private), read by the constructor.
HighLevel.BASE_URL = env.KEYHOUSE_URL + "/v2";
const ghl = new HighLevel({ privateIntegrationToken: env.KEYHOUSE_KEY, logLevel: "error" });
const agency = new HighLevel({ privateIntegrationToken: env.KEYHOUSE_AGENCY_KEY, logLevel: "error" });
const locationId = env.LOCATION_ID;

async function main() {
  const out = {};
  const call = async (name, promise) => {
    try {
      out[name] = await promise;
    } catch (error) {
      out[name] = { error: error.statusCode || error.response?.status || String(error), body: error.response?.data || error.response };
    }
    return out[name];
  };
  const field = (await call("customField", ghl.locations.createCustomField({ locationId }, { name: "Plan", dataType: "TEXT" }))).customField;
  await call("customFields", ghl.locations.getCustomFields({ locationId }));
  await call("customFieldGot", ghl.locations.getCustomField({ locationId, id: field.id }));
  await call("customFieldUpdated", ghl.locations.updateCustomField({ locationId, id: field.id }, { name: "Plan tier" }));
  const contact = (await call("created", ghl.contacts.createContact({
    locationId, firstName: "Ada", email: "ada@example.com", gender: "female", tags: ["sdk"],
    dndSettings: { SMS: { status: "active" } }, customFields: [{ key: "plan", field_value: "gold" }],
  }))).contact;
  const contactId = contact.id;
  await call("got", ghl.contacts.getContact({ contactId }));
  await call("updated", ghl.contacts.updateContact({ contactId }, { lastName: "Lovelace" }));
  await call("listed", ghl.contacts.getContacts({ locationId, limit: 20 }));
  await call("searched", ghl.contacts.searchContactsAdvanced({ locationId, query: "ada@example.com", pageLimit: 20 }));
  await call("duplicate", ghl.contacts.getDuplicateContact({ locationId, email: "ada@example.com" }));
  await call("upserted", ghl.contacts.upsertContact({ locationId, email: "ada@example.com", city: "London" }));
  await call("tagsAdded", ghl.contacts.addTags({ contactId }, { tags: ["vip"] }));
  await call("tagsRemoved", ghl.contacts.removeTags({ contactId }, { tags: ["sdk"] }));
  await call("enrolled", ghl.contacts.addContactToWorkflow({ contactId, workflowId: env.WORKFLOW_ID }, { eventStartTime: "2026-12-24T10:00:00Z" }));
  await call("unenrolled", ghl.contacts.deleteContactFromWorkflow({ contactId, workflowId: env.WORKFLOW_ID }, {}));
  const note = (await call("note", ghl.contacts.createNote({ contactId }, { body: "Met at the fair" }))).note;
  await call("notes", ghl.contacts.getAllNotes({ contactId }));
  await call("noteGot", ghl.contacts.getNote({ contactId, id: note.id }));
  await call("noteUpdated", ghl.contacts.updateNote({ contactId, id: note.id }, { body: "Met at the spring fair" }));
  await call("noteDeleted", ghl.contacts.deleteNote({ contactId, id: note.id }));
  const task = (await call("task", ghl.contacts.createTask({ contactId }, { title: "Call back", dueDate: "2026-12-01T09:00:00Z", completed: false }))).task;
  await call("tasks", ghl.contacts.getAllTasks({ contactId }));
  await call("taskGot", ghl.contacts.getTask({ contactId, taskId: task.id }));
  await call("taskUpdated", ghl.contacts.updateTask({ contactId, taskId: task.id }, { title: "Call back soon" }));
  await call("taskCompleted", ghl.contacts.updateTaskCompleted({ contactId, taskId: task.id }, { completed: true }));
  await call("taskDeleted", ghl.contacts.deleteTask({ contactId, taskId: task.id }));
  await call("workflows", ghl.workflows.getWorkflow({ locationId }));
  await call("forms", ghl.forms.getForms({ locationId }));
  await call("submissions", ghl.forms.getFormsSubmissions({ locationId }));
  const link = (await call("link", ghl.links.createLink({ locationId, name: "Fair", redirectTo: "https://example.com/fair" }))).link;
  await call("links", ghl.links.getLinks({ locationId }));
  await call("linkGot", ghl.links.getLinkById({ locationId, linkId: link.id }));
  await call("linkUpdated", ghl.links.updateLink({ linkId: link.id }, { name: "Spring fair", redirectTo: "https://example.com/fair" }));
  await call("linkDeleted", ghl.links.deleteLink({ linkId: link.id }));
  await call("location", ghl.locations.getLocation({ locationId }));
  await call("locations", agency.locations.searchLocations({ companyId: env.COMPANY_ID }));
  await call("customFieldDeleted", ghl.locations.deleteCustomField({ locationId, id: field.id }));
  await call("deleted", ghl.contacts.deleteContact({ contactId }));
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});
