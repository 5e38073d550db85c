/// The JSON Schema of the suite file, for editors (a YAML language server completes keys and flags
/// mistakes as one types). Every mapping's keys come from the tables the loader checks against, and
/// `SuiteSchema.mappings` pairs each table with the schemas of its values, so a key added to the
/// loader without a place here fails the tests. `validate` stays the judge: the schema cannot say
/// everything (files that exist, commands on PATH, one handler per tool).
public enum SuiteSchema {
  typealias Schema = JSONValue

  static func object(_ fields: [(String, Schema)], required: [String] = [], description: String? = nil) -> Schema {
    var schema: [String: Schema] = [
      "type": "object", "additionalProperties": false,
      "properties": .object(Dictionary(uniqueKeysWithValues: fields)),
    ]
    if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
    if let description { schema["description"] = .string(description) }
    return .object(schema)
  }

  static func typed(_ type: String, _ description: String? = nil) -> Schema {
    var schema: [String: Schema] = ["type": .string(type)]
    if let description { schema["description"] = .string(description) }
    return .object(schema)
  }

  static let string = typed("string")
  static let number = typed("number")
  static let integer = typed("integer")
  static let boolean = typed("boolean")
  static let anything: Schema = .object([:])
  static let strings: Schema = ["type": "array", "items": string]
  static let stringOrStrings: Schema = ["anyOf": [string, strings]]
  static let stringMap: Schema = ["type": "object", "additionalProperties": string]
  /// `250ms`, `30s`, `2m`, or a number of seconds.
  static let duration: Schema = [
    "anyOf": [["type": "number", "exclusiveMinimum": 0], ["type": "string", "pattern": "^[0-9.]+ ?(ms|s|m|h)$"]],
    "description": "a duration: 250ms, 30s, 2m, or a number of seconds",
  ]
  static let command: Schema = ["type": "array", "items": string, "minItems": 1]
  /// A JSON Schema, inline or as a file path.
  static let schemaOrFile: Schema = ["anyOf": [string, ["type": "object"]]]

  /// Each mapping of the suite: its name, the loader's table of keys, and the schema of each key's value.
  static var mappings: [(name: String, keys: [String], values: [String: Schema])] {
    let judge: [String: Schema] = [
      "agent": string, "rubric": string, "threshold": number, "timeout": duration,
    ]
    let commandSpec: [String: Schema] = ["run": command, "timeout": duration]
    let jsonCheck: [String: Schema] = [
      "path": string, "equals": anything, "contains": anything, "matches": string, "exists": boolean,
      "gte": number, "lte": number, "tolerance": number,
    ]
    return [
      (
        "suite", SuiteLoader.topKeys,
        [
          "version": ["const": 1], "name": string, "description": string, "trials": integer, "concurrency": integer,
          "timeout": duration, "slo": ref("slo"), "clear": ref("clear"),
          "agents": ["type": "object", "additionalProperties": ref("agent")], "agent": ref("agent"),
          "defaults": ref("defaults"), "tasks": ["type": "array", "items": ref("task")], "tasks_file": stringOrStrings,
          "tools": ref("tools"), "mcp_servers": ref("mcp_servers"), "state": ["anyOf": [string, ["type": "object"]]],
          "conditions": ["type": "object", "additionalProperties": ["anyOf": [["type": "null"], ref("condition")]]],
        ]
      ),
      ("slo", SuiteLoader.sloKeys, ["latency": duration, "cost": number]),
      ("clear", SuiteLoader.clearKeys, ["weights": ref("clear_weights")]),
      ("clear_weights", ClearWeights.keys, Dictionary(uniqueKeysWithValues: ClearWeights.keys.map { ($0, number) })),
      (
        "agent", SuiteLoader.agentKeys,
        ["subprocess": ref("subprocess"), "http": ref("http"), "pricing": ref("pricing")]
      ),
      ("pricing", SuiteLoader.pricingKeys, ["input_per_million": number, "output_per_million": number]),
      (
        "subprocess", SuiteLoader.subprocessKeys,
        [
          "command": command, "cwd": string, "env": stringMap,
          "format": ["enum": .array(OutputFormat.allCases.map { .string($0.rawValue) })], "max_output": integer,
        ]
      ),
      (
        "http", SuiteLoader.httpKeys,
        [
          "url": string, "method": string, "headers": stringMap, "body": anything, "response": ref("response"),
          "retries": integer, "max_connections": integer, "max_output": integer, "openai": ref("openai"),
          "tool_loop": ref("tool_loop"),
        ]
      ),
      (
        "openai", SuiteLoader.openAIKeys,
        ["base_url": string, "model": string, "api_key": string, "temperature": number, "max_tokens": integer]
      ),
      (
        "response", SuiteLoader.responseKeys,
        ["output": string, "input_tokens": string, "output_tokens": string, "cost_usd": string, "steps": string]
      ),
      ("tool_loop", SuiteLoader.toolLoopKeys, ["max_turns": integer]),
      (
        "defaults", SuiteLoader.taskKeys.filter { !SuiteLoader.taskOnlyKeys.contains($0) },
        taskValues.filter { !SuiteLoader.taskOnlyKeys.contains($0.key) }
      ),
      ("task", SuiteLoader.taskKeys, taskValues),
      (
        "tool", SuiteLoader.toolKeys,
        [
          "description": string, "input_schema": schemaOrFile, "output_schema": schemaOrFile,
          "annotations": ref("annotations"), "timeout": duration, "cases": ["type": "array", "items": ref("case")],
          "respond": anything, "run": command,
        ]
      ),
      (
        "annotations", ToolAnnotations.keys,
        Dictionary(uniqueKeysWithValues: ToolAnnotations.keys.map { ($0, boolean) })
      ),
      ("case", SuiteLoader.caseKeys, ["when": ["type": "object"], "result": anything, "is_error": boolean]),
      (
        "mcp_server", SuiteLoader.serverKeys,
        ["command": command, "url": string, "env": stringMap, "cwd": string, "tools": strings]
      ),
      (
        "grader", SuiteLoader.graderKeywords + ["name"],
        [
          "name": string, "equals": anything, "contains": stringOrStrings, "contains_any": strings, "regex": string,
          "json": ref("json_check"), "json_schema": schemaOrFile,
          "tool_called": ["anyOf": [string, ref("tool_called")]], "tool_sequence": strings,
          "command": ["anyOf": [command, ref("command")]], "judge": ref("judge"),
          "state": ["anyOf": [ref("json_check"), ref("state_file")]], "tool_result": ref("tool_result"),
        ]
      ),
      (
        "check", SuiteLoader.checkKeywords + ["name"],
        [
          "name": string, "tools": ref("tools_policy"), "command": ["anyOf": [command, ref("command")]],
          "honest_steps": boolean, "not_contains": stringOrStrings, "not_regex": string,
          "no_pii": [
            "anyOf": [
              ["const": true],
              ["type": "array", "items": ["enum": .array(PIIKind.allCases.map { .string($0.rawValue) })]],
            ]
          ],
          "json_schema": schemaOrFile, "tool_schemas": ["type": "object"], "max_steps": integer, "max_cost": number,
          "max_latency": duration, "max_tokens": integer,
        ]
      ),
      ("tool_called", SuiteLoader.toolCalledKeys, ["name": string, "arguments": ["type": "object"]]),
      ("tools_policy", SuiteLoader.toolsPolicyKeys, ["allow": strings, "deny": strings, "max_calls": integer]),
      ("state_file", SuiteLoader.stateFileKeys, ["equals_file": string]),
      ("json_check", SuiteLoader.jsonCheckKeys, jsonCheck),
      (
        "tool_result", SuiteLoader.toolResultKeys,
        jsonCheck.merging(["call": string, "arguments": ["type": "object"]]) { a, _ in a }
      ),
      ("judge", SuiteLoader.judgeKeys, judge),
      (
        "condition", SuiteLoader.conditionKeys,
        ["faults": ["type": "array", "items": ref("fault")], "perturb": ref("perturb")]
      ),
      (
        "fault", SuiteLoader.faultKeys,
        [
          "kind": ["enum": .array(FaultKind.allCases.map { .string($0.rawValue) })], "tools": stringOrStrings,
          "rate": ["type": "number", "minimum": 0, "maximum": 1], "on_call": ["type": "integer", "minimum": 1],
          "after": duration, "delay": duration, "retry_after": duration,
        ]
      ),
      (
        "perturb", SuiteLoader.perturbKeys,
        [
          "typos": ["type": "number", "minimum": 0, "maximum": 1], "case": boolean, "whitespace": boolean,
          "filler": boolean,
        ]
      ),
      ("command", SuiteLoader.commandKeys, commandSpec),
    ]
  }

  static var taskValues: [String: Schema] {
    [
      "id": string, "input": anything, "tags": strings, "metadata": ["type": "object"], "trials": integer,
      "timeout": duration, "fixture": string, "expect": ["type": "array", "items": ref("grader")],
      "assure": ["type": "array", "items": ref("check")], "tools": ref("tools"), "mcp_servers": ref("mcp_servers"),
      "state": ["anyOf": [string, ["type": "object"]]], "variants": ["type": "array", "minItems": 1],
    ]
  }

  static func ref(_ name: String) -> Schema { ["$ref": .string("#/$defs/\(name)")] }

  /// The schema as a JSON document.
  public static var document: JSONValue {
    var defs: [String: Schema] = [
      "tools": ["type": "object", "additionalProperties": ref("tool")],
      "mcp_servers": ["type": "object", "additionalProperties": ref("mcp_server")],
    ]
    for (name, keys, values) in mappings where name != "suite" {
      defs[name] = object(keys.map { ($0, values[$0] ?? anything) })
    }
    guard let suite = mappings.first(where: { $0.name == "suite" }) else { return .null }
    var root = object(suite.keys.map { ($0, suite.values[$0] ?? anything) }, required: ["name"])
    if case .object(var fields) = root {
      fields["$schema"] = "https://json-schema.org/draft/2020-12/schema"
      fields["$id"] = "https://evalh.dev/schema/suite.schema.json"
      fields["title"] = "evalh suite"
      fields["description"] = "A suite of tasks evalh runs against agents (docs/suite-format.md)."
      fields["$defs"] = .object(defs)
      root = .object(fields)
    }
    return root
  }
}
