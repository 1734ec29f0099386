import { readFileSync } from "node:fs";
import { XMLParser } from "fast-xml-parser";

/** A property of a complex or entity type, or a parameter of an action. */
export interface CsdlProperty {
  name: string;
  /** Qualified type name, e.g. "microsoft.graph.mediaConfig" or "Edm.String". */
  type: string;
  isCollection: boolean;
  nullable: boolean;
}

export interface CsdlStructuredType {
  kind: "complex" | "entity";
  name: string;
  qualifiedName: string;
  baseType?: string;
  abstract: boolean;
  openType: boolean;
  /** Own properties only; see CsdlModel.propertiesOf for inherited ones. */
  properties: Map<string, CsdlProperty>;
  keys: string[];
}

export interface CsdlEnumType {
  name: string;
  qualifiedName: string;
  members: string[];
}

export interface CsdlAction {
  name: string;
  /** Qualified type of the binding parameter, e.g. "microsoft.graph.call". */
  bindingType?: string;
  parameters: CsdlProperty[];
  returnType?: string;
}

type XmlNode = Record<string, unknown>;

const ARRAY_ELEMENTS = new Set([
  "EnumType",
  "Member",
  "ComplexType",
  "EntityType",
  "Property",
  "NavigationProperty",
  "Action",
  "Parameter",
  "PropertyRef",
]);

/**
 * The types and bound actions of one CSDL (OData v4 metadata) schema. Type references are
 * normalized to the schema namespace, so "graph.call" and "microsoft.graph.call" both resolve.
 */
export class CsdlModel {
  readonly namespace: string;
  readonly structuredTypes = new Map<string, CsdlStructuredType>();
  readonly enumTypes = new Map<string, CsdlEnumType>();
  readonly actions = new Map<string, CsdlAction[]>();

  private constructor(namespace: string) {
    this.namespace = namespace;
  }

  static fromFile(path: string): CsdlModel {
    return CsdlModel.parse(readFileSync(path, "utf8"));
  }

  static parse(xml: string): CsdlModel {
    const parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: "@_",
      isArray: (name) => ARRAY_ELEMENTS.has(name),
    });
    const document = parser.parse(xml) as XmlNode;
    const schema = findSchema(document);
    if (!schema) throw new Error("CSDL: no <Schema> element found");
    const namespace = String(schema["@_Namespace"] ?? "");
    if (!namespace) throw new Error("CSDL: <Schema> lacks a Namespace");
    const model = new CsdlModel(namespace);
    const alias = schema["@_Alias"] === undefined ? undefined : String(schema["@_Alias"]);
    model.aliases = [namespace, ...(alias ? [alias] : []), namespace.split(".").at(-1) ?? namespace];

    for (const node of asNodes(schema.EnumType)) {
      const name = attr(node, "Name");
      model.enumTypes.set(model.qualify(name), {
        name,
        qualifiedName: model.qualify(name),
        members: asNodes(node.Member).map((member) => attr(member, "Name")),
      });
    }
    for (const [kind, nodes] of [
      ["complex", schema.ComplexType],
      ["entity", schema.EntityType],
    ] as const) {
      for (const node of asNodes(nodes)) {
        const name = attr(node, "Name");
        const baseType =
          node["@_BaseType"] === undefined ? undefined : model.normalize(String(node["@_BaseType"]));
        const key = node.Key as XmlNode | undefined;
        model.structuredTypes.set(model.qualify(name), {
          kind,
          name,
          qualifiedName: model.qualify(name),
          ...(baseType ? { baseType } : {}),
          abstract: node["@_Abstract"] === "true",
          openType: node["@_OpenType"] === "true",
          properties: new Map(asNodes(node.Property).map((p) => [attr(p, "Name"), model.property(p)])),
          keys: key ? asNodes(key.PropertyRef).map((ref) => attr(ref, "Name")) : [],
        });
      }
    }
    for (const node of asNodes(schema.Action)) {
      const name = attr(node, "Name");
      const parameters = asNodes(node.Parameter).map((p) => model.property(p));
      const bound = node["@_IsBound"] === "true";
      const binding = bound ? parameters.shift() : undefined;
      const returnNode = node.ReturnType as XmlNode | undefined;
      const action: CsdlAction = {
        name,
        ...(binding
          ? { bindingType: binding.isCollection ? `Collection(${binding.type})` : binding.type }
          : {}),
        parameters,
        ...(returnNode ? { returnType: model.normalize(attr(returnNode, "Type")) } : {}),
      };
      model.actions.set(name, [...(model.actions.get(name) ?? []), action]);
    }
    return model;
  }

  private aliases: string[] = [];

  qualify(name: string): string {
    return `${this.namespace}.${name}`;
  }

  /** "graph.x" / "microsoft.graph.x" / "#microsoft.graph.x" → "microsoft.graph.x"; Edm types unchanged. */
  normalize(typeName: string): string {
    const name = typeName.trim().replace(/^#/, "");
    if (name.startsWith("Edm.")) return name;
    for (const alias of this.aliases) {
      if (name.startsWith(`${alias}.`)) return this.qualify(name.slice(alias.length + 1));
    }
    return name;
  }

  /** Own and inherited properties, base types first. */
  propertiesOf(type: CsdlStructuredType): Map<string, CsdlProperty> {
    const chain: CsdlStructuredType[] = [];
    for (let current: CsdlStructuredType | undefined = type; current; ) {
      chain.unshift(current);
      current = current.baseType ? this.structuredTypes.get(current.baseType) : undefined;
    }
    const all = new Map<string, CsdlProperty>();
    for (const link of chain) for (const [name, property] of link.properties) all.set(name, property);
    return all;
  }

  keysOf(type: CsdlStructuredType): string[] {
    for (let current: CsdlStructuredType | undefined = type; current; ) {
      if (current.keys.length > 0) return current.keys;
      current = current.baseType ? this.structuredTypes.get(current.baseType) : undefined;
    }
    return [];
  }

  /** True when `candidate` is `base` or derives from it. */
  derivesFrom(candidate: string, base: string): boolean {
    for (let current = this.structuredTypes.get(candidate); current; ) {
      if (current.qualifiedName === base) return true;
      current = current.baseType ? this.structuredTypes.get(current.baseType) : undefined;
    }
    return false;
  }

  /** A bound action by name and binding type ("microsoft.graph.call"). */
  action(name: string, bindingType: string): CsdlAction | undefined {
    return this.actions.get(name)?.find((action) => action.bindingType === this.normalize(bindingType));
  }

  private property(node: XmlNode): CsdlProperty {
    const rawType = attr(node, "Type");
    const collection = /^Collection\((.+)\)$/.exec(rawType);
    return {
      name: attr(node, "Name"),
      type: this.normalize(collection?.[1] ?? rawType),
      isCollection: collection !== null,
      nullable: node["@_Nullable"] !== "false",
    };
  }
}

function findSchema(document: XmlNode): XmlNode | undefined {
  if (document.Schema) return document.Schema as XmlNode;
  const edmx = document["edmx:Edmx"] as XmlNode | undefined;
  const services = edmx?.["edmx:DataServices"] as XmlNode | undefined;
  const schema = services?.Schema;
  return (Array.isArray(schema) ? schema[0] : schema) as XmlNode | undefined;
}

function asNodes(value: unknown): XmlNode[] {
  if (value === undefined || value === null || value === "") return [];
  return (Array.isArray(value) ? value : [value]).filter((node): node is XmlNode => typeof node === "object");
}

function attr(node: XmlNode, name: string): string {
  const value = node[`@_${name}`];
  if (value === undefined) throw new Error(`CSDL: element lacks attribute ${name}`);
  return String(value);
}
