import type { CsdlModel, CsdlProperty, CsdlStructuredType } from "./csdl-model.js";

/** One problem in a JSON payload: where (a JSON path like `targets[0].identity`) and what. */
export interface CsdlViolation {
  path: string;
  message: string;
}

export interface CsdlValidatorOptions {
  /**
   * Enum members to accept beyond the metadata's, keyed by qualified enum name. Graph's prose
   * docs name values the metadata lacks (e.g. modality `unknown`, `screenSharing`); the
   * contract is to accept both on input.
   */
  extraEnumMembers?: Record<string, string[]>;
}

const INT_RANGES: Record<string, [number, number]> = {
  "Edm.Byte": [0, 255],
  "Edm.SByte": [-128, 127],
  "Edm.Int16": [-32768, 32767],
  "Edm.Int32": [-2147483648, 2147483647],
  "Edm.Int64": [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

const DATE_TIME_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME_OF_DAY = /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const DURATION = /^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Validates JSON payloads against a CSDL model the way an OData service does on input: types
 * (with @odata.type for derived types and BaseType inheritance), enum members, collections,
 * Edm primitives, unknown properties on closed types, and non-nullable members (required).
 * Types the model references but does not define are accepted unchecked.
 */
export class CsdlValidator {
  constructor(
    readonly model: CsdlModel,
    private readonly options: CsdlValidatorOptions = {},
  ) {}

  /** The body of a bound action, e.g. ("answer", "microsoft.graph.call"). */
  validateActionBody(actionName: string, bindingType: string, body: unknown): CsdlViolation[] {
    const action = this.model.action(actionName, bindingType);
    if (!action) throw new Error(`CSDL: no action ${actionName} bound to ${bindingType}`);
    const violations: CsdlViolation[] = [];
    if (body === undefined || body === null) body = {};
    if (!isObject(body)) {
      return [
        {
          path: "",
          message: `the body of action ${actionName} must be a JSON object, got ${describe(body)}`,
        },
      ];
    }
    const parameters = new Map(action.parameters.map((p) => [p.name, p]));
    for (const [name, value] of Object.entries(body)) {
      if (name.includes("@")) continue;
      const parameter = parameters.get(name);
      if (!parameter) {
        violations.push({
          path: name,
          message: `unknown parameter '${name}' of action ${actionName} (its parameters: ${[...parameters.keys()].join(", ") || "none"})`,
        });
        continue;
      }
      this.checkMember(parameter, value, name, violations);
    }
    for (const parameter of action.parameters) {
      if (!parameter.nullable && !(parameter.name in body)) {
        violations.push({
          path: parameter.name,
          message: `required parameter '${parameter.name}' (${typeLabel(parameter)}) of action ${actionName} is missing`,
        });
      }
    }
    return violations;
  }

  /** An entity in a create (POST) body: keys may be absent, other non-nullable properties may not. */
  validateEntity(typeName: string, body: unknown): CsdlViolation[] {
    const violations: CsdlViolation[] = [];
    this.checkStructured(this.model.normalize(typeName), body, "", violations, true);
    return violations;
  }

  /** Any value against a type reference (`microsoft.graph.x`, `Edm.String`), optionally a collection. */
  validateValue(value: unknown, typeName: string, isCollection = false, path = ""): CsdlViolation[] {
    const violations: CsdlViolation[] = [];
    this.checkMember(
      { name: path, type: this.model.normalize(typeName), isCollection, nullable: true },
      value,
      path,
      violations,
    );
    return violations;
  }

  private checkMember(member: CsdlProperty, value: unknown, path: string, out: CsdlViolation[]): void {
    if (value === null) {
      if (!member.nullable) out.push({ path, message: `must not be null (${typeLabel(member)})` });
      return;
    }
    if (member.isCollection) {
      if (!Array.isArray(value)) {
        out.push({ path, message: `expected a JSON array (${typeLabel(member)}), got ${describe(value)}` });
        return;
      }
      value.forEach((item, index) => {
        const itemPath = `${path}[${index}]`;
        if (item === null)
          out.push({ path: itemPath, message: `null is not allowed in ${typeLabel(member)}` });
        else this.checkType(member.type, item, itemPath, out);
      });
      return;
    }
    this.checkType(member.type, value, path, out);
  }

  private checkType(type: string, value: unknown, path: string, out: CsdlViolation[]): void {
    if (type.startsWith("Edm.")) {
      const problem = checkPrimitive(type, value);
      if (problem) out.push({ path, message: problem });
      return;
    }
    const enumType = this.model.enumTypes.get(type);
    if (enumType) {
      const members = [...enumType.members, ...(this.options.extraEnumMembers?.[type] ?? [])];
      if (typeof value !== "string") {
        out.push({ path, message: `expected a ${type} member name (string), got ${describe(value)}` });
      } else if (!members.includes(value)) {
        out.push({
          path,
          message: `'${value}' is not a member of ${type} (allowed: ${members.join(", ")})`,
        });
      }
      return;
    }
    if (this.model.structuredTypes.has(type)) {
      this.checkStructured(type, value, path, out, false);
    }
    // A type the metadata references but does not define: nothing to check against.
  }

  private checkStructured(
    declared: string,
    value: unknown,
    path: string,
    out: CsdlViolation[],
    keysOptional: boolean,
  ): void {
    const declaredType = this.model.structuredTypes.get(declared);
    if (!declaredType) throw new Error(`CSDL: unknown type ${declared}`);
    if (!isObject(value)) {
      out.push({ path, message: `expected a ${declared} object, got ${describe(value)}` });
      return;
    }
    let type: CsdlStructuredType = declaredType;
    const odataType = value["@odata.type"];
    if (odataType !== undefined) {
      if (typeof odataType !== "string") {
        out.push({
          path: join(path, "@odata.type"),
          message: `must be a string, got ${describe(odataType)}`,
        });
        return;
      }
      const named = this.model.normalize(odataType);
      const namedType = this.model.structuredTypes.get(named);
      if (!namedType) {
        out.push({
          path: join(path, "@odata.type"),
          message: `'${odataType}' names no type in the metadata`,
        });
        return;
      }
      if (!this.model.derivesFrom(named, declared)) {
        out.push({
          path: join(path, "@odata.type"),
          message: `'${odataType}' is not ${declared} or a type derived from it`,
        });
        return;
      }
      type = namedType;
    }
    if (type.abstract) {
      out.push({
        path,
        message: `${declared} is abstract: '@odata.type' must name a concrete derived type (${this.concreteSubtypes(declared).join(", ")})`,
      });
      return;
    }
    const properties = this.model.propertiesOf(type);
    const open = this.isOpen(type);
    for (const [name, member] of Object.entries(value)) {
      if (name.includes("@")) continue;
      const property = properties.get(name);
      if (!property) {
        if (!open) {
          out.push({
            path: join(path, name),
            message: `unknown property '${name}' on ${type.qualifiedName} (its properties: ${[...properties.keys()].join(", ") || "none"})`,
          });
        }
        continue;
      }
      this.checkMember(property, member, join(path, name), out);
    }
    const keys = keysOptional ? this.model.keysOf(type) : [];
    for (const property of properties.values()) {
      if (!property.nullable && !(property.name in value) && !keys.includes(property.name)) {
        out.push({
          path: join(path, property.name),
          message: `required property '${property.name}' (${typeLabel(property)}) of ${type.qualifiedName} is missing`,
        });
      }
    }
  }

  private isOpen(type: CsdlStructuredType): boolean {
    for (let current: CsdlStructuredType | undefined = type; current; ) {
      if (current.openType) return true;
      current = current.baseType ? this.model.structuredTypes.get(current.baseType) : undefined;
    }
    return false;
  }

  private concreteSubtypes(base: string): string[] {
    return [...this.model.structuredTypes.values()]
      .filter((t) => !t.abstract && this.model.derivesFrom(t.qualifiedName, base))
      .map((t) => `#${t.qualifiedName}`);
  }
}

/** "mediaConfig.blob: expected ...; callbackUri: required ..." for an error message. */
export function formatViolations(violations: CsdlViolation[]): string {
  return violations.map((v) => (v.path ? `${v.path}: ${v.message}` : v.message)).join("; ");
}

function checkPrimitive(type: string, value: unknown): string | undefined {
  const range = INT_RANGES[type];
  if (range) {
    const number =
      type === "Edm.Int64" && typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== "number" || !Number.isInteger(number))
      return `expected ${type} (an integer), got ${describe(value)}`;
    if (number < range[0] || number > range[1]) return `${number} is out of range for ${type}`;
    return undefined;
  }
  switch (type) {
    case "Edm.String":
      return typeof value === "string" ? undefined : `expected Edm.String, got ${describe(value)}`;
    case "Edm.Boolean":
      return typeof value === "boolean" ? undefined : `expected Edm.Boolean, got ${describe(value)}`;
    case "Edm.Double":
    case "Edm.Single":
    case "Edm.Decimal":
      return typeof value === "number" || value === "NaN" || value === "INF" || value === "-INF"
        ? undefined
        : `expected ${type} (a number), got ${describe(value)}`;
    case "Edm.DateTimeOffset":
      return matches(value, DATE_TIME_OFFSET, type, "an ISO 8601 date-time with offset");
    case "Edm.Date":
      return matches(value, DATE, type, "YYYY-MM-DD");
    case "Edm.TimeOfDay":
      return matches(value, TIME_OF_DAY, type, "hh:mm:ss");
    case "Edm.Duration":
      return matches(value, DURATION, type, "an ISO 8601 duration");
    case "Edm.Guid":
      return matches(value, GUID, type, "a GUID");
    case "Edm.Binary":
      return matches(value, BASE64, type, "base64");
    default:
      return undefined; // Edm.Untyped, Edm.Stream, geography types: accepted as they come
  }
}

function matches(value: unknown, pattern: RegExp, type: string, what: string): string | undefined {
  if (typeof value === "string" && pattern.test(value)) return undefined;
  return `expected ${type} (${what}), got ${describe(value)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function typeLabel(member: CsdlProperty): string {
  return member.isCollection ? `Collection(${member.type})` : member.type;
}

/** A short description of a JSON value for error messages: its JSON type and a clipped sample. */
function describe(value: unknown): string {
  const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  if (kind === "object" || kind === "array" || kind === "undefined") return kind;
  const text = JSON.stringify(value);
  return `${kind} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}
