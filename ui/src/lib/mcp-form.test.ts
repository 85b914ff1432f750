import { describe, expect, it } from "vitest";
import { emptyFields, toDraft, toFields, describeStatus } from "./mcp-form";

describe("the MCP server form", () => {
  it("turns a local server's fields into a draft, secrets marked", () => {
    const draft = toDraft(
      { ...emptyFields(), name: " srv ", command: " run-me ", args: "--a\n\n b ", plain: '{"A": "1"}', secret: '{"T": "x"}', tools: "one, two" },
      null,
    );
    expect(draft).toEqual({
      originalName: null,
      name: "srv",
      spec: {
        kind: "local",
        command: "run-me",
        args: ["--a", "b"],
        workingDirectory: null,
        env: [
          { name: "A", value: "1", secret: false },
          { name: "T", value: "x", secret: true },
        ],
        tools: ["one", "two"],
      },
    });
  });

  it("says what is wrong", () => {
    expect(() => toDraft({ ...emptyFields(), name: "a" }, null)).toThrow("Enter the command");
    expect(() => toDraft({ ...emptyFields(), name: "a", kind: "http", url: "ftp://x" }, null)).toThrow("not an http");
    expect(() => toDraft({ ...emptyFields(), name: "a", command: "c", plain: "{oops" }, null)).toThrow("Environment is not valid JSON");
    expect(() => toDraft({ ...emptyFields(), name: "a", command: "c", plain: "[1]" }, null)).toThrow("must be a JSON object");
    expect(() => toDraft({ ...emptyFields(), name: "a", kind: "http", url: "https://x", secret: '{"H": 1}' }, null)).toThrow(
      'the value of "H" must be a string',
    );
    expect(() => toDraft({ ...emptyFields(), name: "" }, null)).toThrow("name");
  });

  it("shows a stored server with its secrets by name only", () => {
    const fields = toFields({
      name: "web",
      enabled: true,
      storedIn: "app",
      spec: { kind: "http", url: "https://x/mcp", headers: [{ name: "Authorization", value: "", secret: true }], tools: ["*"] },
    });
    expect(fields.kind).toBe("http");
    expect(JSON.parse(fields.secret)).toEqual({ Authorization: "" });
    expect(fields.plain).toBe("");
    expect(fields.tools).toBe("");
    expect(describeStatus("needs-auth")).toBe("Needs sign-in");
  });
});
