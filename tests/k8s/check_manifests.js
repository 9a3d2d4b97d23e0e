#!/usr/bin/env node
// Checks rendered Kubernetes manifests (the output of `kustomize build`, many
// YAML documents in a file) offline, with no API server:
//
//  1. Schema: every document against the Kubernetes API's JSON schemas
//     (Kubernetes 1.27.1's OpenAPI definitions, as the npm package
//     kubernetes-models 4.3.1 ships them), made strict the way kubectl's
//     field validation is: an object's properties are the only keys it may
//     have (additionalProperties: false wherever the schema lists
//     properties), so a misspelt or invented field is an error, not
//     silently dropped.
//  2. Our invariants (unless --schema-only): every container non-root with a
//     read-only root filesystem and no privileges; probes on the daemons'
//     plaintext health port; limits >= requests; worker memory that holds
//     slots x task memory; drain shorter than the grace period; every
//     --flag of mr-master, mr-worker and mrctl one the binary knows
//     (--known-flags BINARY=FILE, FILE holding the binary's help text).
//
//   node check_manifests.js [--schema-only] [--known-flags BIN=FILE]... FILE...
//
// Prints one line per problem ("FILE: KIND/NAME: what") and exits 1 when
// there is any, 0 otherwise; 2 on a usage error.
'use strict';

const fs = require('fs');
const path = require('path');

const Ajv = require('ajv');
const addFormats = require('ajv-formats');
const YAML = require('yaml');

// ---------------------------------------------------------------------------
// The schemas.

// kubernetes-models 4.3.x keeps each definition as a plain JSON schema that
// its addSchema() hands to @kubernetes-models/validate's register(id,
// schema). We catch those calls instead of letting that library compile them
// (it would compile them as they are: permissive).
function loadKubernetesSchemas() {
  const kmValidate = require('@kubernetes-models/validate');
  const collected = new Map();
  kmValidate.register = (id, schema) => {
    if (!collected.has(id)) collected.set(id, schema);
  };
  for (const pkg of ['kubernetes-models', '@kubernetes-models/apimachinery']) {
    const dir = path.join(
        path.dirname(require.resolve(`${pkg}/package.json`)), '_schemas');
    for (const file of fs.readdirSync(dir)) {
      if (file.endsWith('.js')) require(path.join(dir, file)).addSchema();
    }
  }
  if (collected.size < 500) {
    throw new Error(`only ${collected.size} schemas found in kubernetes-models:` +
                    ' not the package layout this script was written for');
  }
  return collected;
}

// A deep copy of `schema` where every object schema that lists its properties
// and says nothing of others admits no others.
function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [k, v] of Object.entries(schema)) {
    // `properties` maps names to schemas: copy the names, recurse into each.
    if (k === 'properties') {
      out[k] = {};
      for (const [name, sub] of Object.entries(v)) out[k][name] = strict(sub);
    } else {
      out[k] = strict(v);
    }
  }
  if (out.properties && out.additionalProperties === undefined &&
      !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

// The validator: an Ajv with every definition under its id, and the id of
// each top-level kind by "apiVersion kind".
function makeValidator() {
  const schemas = loadKubernetesSchemas();
  const ajv = new Ajv({strict: false, allErrors: true});
  addFormats(ajv);
  // The Kubernetes formats ajv-formats lacks (as kubernetes-models defines
  // them).
  ajv.addFormat('byte', {
    type: 'string',
    validate: (v) =>
        /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v),
  });
  ajv.addFormat('quantity', {
    type: 'string',
    validate: (v) => parseQuantity(v) !== null,
  });
  const kinds = new Map();
  for (const [id, schema] of schemas) {
    ajv.addSchema(strict(schema), id);
    const p = schema.properties || {};
    const versions = (p.apiVersion && p.apiVersion.enum) || [];
    const kindNames = (p.kind && p.kind.enum) || [];
    for (const v of versions) {
      for (const k of kindNames) kinds.set(`${v} ${k}`, id);
    }
  }
  return {ajv, kinds};
}

// ---------------------------------------------------------------------------
// Quantities ("500m", "1536Mi", "2", "1e3"), as numbers of base units.

const kSuffixes = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

function parseQuantity(q) {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return null;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/
      .exec(q);
  if (!m) return null;
  const base = Number(m[1]);
  if (m[2]) return base * Math.pow(10, Number(m[2].slice(1)));
  return base * kSuffixes[m[3] || ''];
}

const kMiB = 2 ** 20;

// ---------------------------------------------------------------------------
// Invariants.

// What every container must say about itself (container-level settings
// override the pod's; both are read).
const kUid = 10001;

function podSpecOf(doc) {
  switch (doc.kind) {
    case 'StatefulSet':
    case 'Deployment':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return doc.spec && doc.spec.template && doc.spec.template.spec;
    case 'CronJob':
      return doc.spec && doc.spec.jobTemplate && doc.spec.jobTemplate.spec &&
          doc.spec.jobTemplate.spec.template &&
          doc.spec.jobTemplate.spec.template.spec;
    case 'Pod':
      return doc.spec;
    default:
      return null;
  }
}

// Parses a container's args into [name, value] pairs of its --flags, with
// $(VAR) replaced by the container's literal env values (those from the
// downward API stay as they are).
function flagsOf(container) {
  const env = {};
  for (const e of container.env || []) {
    if (typeof e.value === 'string') env[e.name] = e.value;
  }
  const expand = (s) =>
      s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
                (all, name) => (name in env ? env[name] : all));
  const out = [];
  for (const raw of container.args || []) {
    const arg = expand(String(raw));
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    out.push(eq < 0 ? [arg.slice(2), null] : [arg.slice(2, eq), arg.slice(eq + 1)]);
  }
  return out;
}

function flagValue(flags, name) {
  const hit = flags.find(([n]) => n === name);
  return hit ? hit[1] : undefined;
}

// The binary a container runs: the base name of command[0] (or of args[0]
// with no command), when it is one of ours.
function binaryOf(container) {
  const argv0 = (container.command && container.command[0]) ||
      (container.args && container.args[0]) || '';
  const base = path.basename(argv0);
  return ['mr-master', 'mr-worker', 'mrctl'].includes(base) ? base : null;
}

// Is `p` at or under the mount path of one of `mounts`, whose volume
// satisfies `pred`?
function underMount(p, mounts, volumesByName, pred) {
  return mounts.some((m) => {
    const v = volumesByName[m.name];
    const root = m.mountPath.replace(/\/+$/, '');
    return v && pred(v) && (p === root || p.startsWith(root + '/'));
  });
}

function checkInvariants(docs, knownFlags, problem) {
  const services = docs.filter((d) => d.kind === 'Service');
  const pdbs = docs.filter((d) => d.kind === 'PodDisruptionBudget');
  const pvcs = Object.fromEntries(docs.filter((d) => d.kind === 'PersistentVolumeClaim')
                                      .map((d) => [d.metadata.name, d]));
  const configMaps = new Set(docs.filter((d) => d.kind === 'ConfigMap').map((d) => d.metadata.name));
  const labelsMatch = (selector, labels) =>
      selector && Object.entries(selector).every(([k, v]) => labels[k] === v);
  const binariesSeen = new Set();

  for (const doc of docs) {
    const spec = podSpecOf(doc);
    if (!spec) continue;
    const where = `${doc.kind}/${doc.metadata.name}`;
    const bad = (what) => problem(`${where}: ${what}`);
    const podLabels = (doc.spec.template && doc.spec.template.metadata &&
                       doc.spec.template.metadata.labels) || {};
    const podSc = spec.securityContext || {};
    if (podSc.fsGroup !== kUid) bad(`pod securityContext.fsGroup is not ${kUid}`);
    if (spec.automountServiceAccountToken !== false) {
      bad('automountServiceAccountToken is not false');
    }
    // What the API server would refuse, and the schemas cannot see.
    const selector = doc.spec.selector && doc.spec.selector.matchLabels;
    if (selector && !labelsMatch(selector, podLabels)) {
      bad('spec.selector does not match the pod template\'s labels');
    }
    const volumesByName = Object.fromEntries((spec.volumes || []).map((v) => [v.name, v]));
    for (const t of doc.spec.volumeClaimTemplates || []) {
      volumesByName[t.metadata.name] = {name: t.metadata.name, claimTemplate: t};
    }
    for (const v of spec.volumes || []) {
      if (v.configMap && !configMaps.has(v.configMap.name)) {
        bad(`volume ${v.name}: ConfigMap ${v.configMap.name} is not in these manifests`);
      }
      if (v.persistentVolumeClaim && !pvcs[v.persistentVolumeClaim.claimName]) {
        bad(`volume ${v.name}: claim ${v.persistentVolumeClaim.claimName} is not in these manifests`);
      }
    }

    const containers = [...(spec.initContainers || []), ...(spec.containers || [])];
    for (const c of containers) {
      const cw = `container ${c.name}`;
      const sc = c.securityContext || {};
      const eff = (k) => (sc[k] !== undefined ? sc[k] : podSc[k]);
      if (eff('runAsNonRoot') !== true) bad(`${cw}: runAsNonRoot is not true`);
      if (eff('runAsUser') !== kUid) bad(`${cw}: runAsUser is not ${kUid}`);
      if (eff('runAsGroup') !== kUid) bad(`${cw}: runAsGroup is not ${kUid}`);
      if (sc.readOnlyRootFilesystem !== true) bad(`${cw}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) {
        bad(`${cw}: allowPrivilegeEscalation is not false`);
      }
      if (sc.privileged === true) bad(`${cw}: privileged`);
      const caps = sc.capabilities || {};
      if (!(caps.drop || []).includes('ALL')) bad(`${cw}: capabilities do not drop ALL`);
      if ((caps.add || []).length > 0) bad(`${cw}: adds capabilities ${caps.add}`);
      const seccomp = eff('seccompProfile') || {};
      if (seccomp.type !== 'RuntimeDefault') bad(`${cw}: seccompProfile is not RuntimeDefault`);
      const mounts = c.volumeMounts || [];
      for (const m of mounts) {
        if (!volumesByName[m.name]) bad(`${cw}: mounts ${m.name}, which is no volume of the pod`);
      }
      if (!underMount('/tmp', mounts, volumesByName, (v) => v.emptyDir)) {
        bad(`${cw}: /tmp is not an emptyDir (the root filesystem is read-only)`);
      }

      // Resources: both kinds set for cpu and memory, each limit >= its
      // request.
      const res = c.resources || {};
      const req = res.requests || {};
      const lim = res.limits || {};
      for (const r of ['cpu', 'memory']) {
        if (req[r] === undefined) bad(`${cw}: no ${r} request`);
        if (lim[r] === undefined) bad(`${cw}: no ${r} limit`);
      }
      for (const [r, q] of Object.entries(req)) {
        if (lim[r] === undefined) continue;
        const a = parseQuantity(q);
        const b = parseQuantity(lim[r]);
        if (a === null || b === null) {
          bad(`${cw}: unparsable ${r} quantity (${q}, ${lim[r]})`);
        } else if (b < a) {
          bad(`${cw}: ${r} limit ${lim[r]} is below its request ${q}`);
        }
      }

      const binary = binaryOf(c);
      if (!binary) continue;
      binariesSeen.add(binary);
      const flags = flagsOf(c);

      // Every --flag one the binary knows.
      const known = knownFlags.get(binary);
      if (known) {
        for (const [name] of flags) {
          if (!known.has(name)) bad(`${cw}: ${binary} has no flag --${name}`);
        }
      }

      // TLS: all three files for the daemons, the CA for the client; every
      // file on a mounted volume.
      const tlsFlags = binary === 'mrctl' ? ['tls_ca'] : ['tls_ca', 'tls_cert', 'tls_key'];
      for (const f of tlsFlags) {
        const file = flagValue(flags, f);
        if (!file) {
          bad(`${cw}: no --${f} (plaintext)`);
        } else if (!underMount(file, mounts, volumesByName, (v) => v.secret)) {
          bad(`${cw}: --${f}=${file} is not on a mounted Secret`);
        }
      }

      if (binary === 'mrctl') continue;

      // Probes: gRPC, on the plaintext health port.
      const healthPort = Number(flagValue(flags, 'health_port'));
      if (!(healthPort > 0)) bad(`${cw}: no --health_port`);
      const mainPort = Number(flagValue(flags, 'port'));
      if (mainPort === healthPort) bad(`${cw}: --health_port is the main port`);
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        const p = c[probe];
        if (!p) {
          if (probe !== 'startupProbe') bad(`${cw}: no ${probe}`);
          continue;
        }
        if (!p.grpc) {
          bad(`${cw}: ${probe} is not a gRPC probe`);
        } else if (p.grpc.port !== healthPort) {
          bad(`${cw}: ${probe} probes port ${p.grpc.port}, not --health_port ${healthPort}`);
        }
      }
      const ports = (c.ports || []).map((p) => p.containerPort);
      for (const p of [mainPort, healthPort]) {
        if (!ports.includes(p)) bad(`${cw}: port ${p} is not among its containerPorts`);
      }
      if (flagValue(flags, 'bind_host') !== '0.0.0.0') {
        bad(`${cw}: --bind_host is not 0.0.0.0 (unreachable from other pods)`);
      }
      for (const root of ['allowed_input_roots', 'allowed_output_roots']) {
        if (!flagValue(flags, root)) bad(`${cw}: no --${root}`);
      }

      if (binary === 'mr-master') {
        if (doc.kind !== 'StatefulSet' || doc.spec.replicas !== 1) {
          bad(`${cw}: the master must be a StatefulSet of 1 replica`);
        }
        const stateDir = flagValue(flags, 'state_dir') || '';
        if (!underMount(stateDir, mounts, volumesByName, (v) => v.claimTemplate)) {
          bad(`${cw}: --state_dir=${stateDir} is not on the StatefulSet's own claim`);
        }
        if (!flagValue(flags, 'tokens_file')) bad(`${cw}: no --tokens_file`);
        if (flagValue(flags, 'plugin_roles') !== 'admin') {
          bad(`${cw}: --plugin_roles is not admin`);
        }
        const svc = services.find((s) => labelsMatch(s.spec.selector, podLabels) &&
            (s.spec.ports || []).some((p) => p.port === mainPort));
        if (!svc) bad(`${cw}: no Service selects the master on port ${mainPort}`);
      }

      if (binary === 'mr-worker') {
        const svcName = doc.spec.serviceName;
        const headless = services.find((s) => s.metadata.name === svcName);
        if (!headless || headless.spec.clusterIP !== 'None' ||
            !labelsMatch(headless.spec.selector, podLabels)) {
          bad(`${cw}: serviceName ${svcName} is not a headless Service selecting the workers`);
        }
        const advertise = flagValue(flags, 'advertise_host') || '';
        const expected = `$(POD_NAME).${svcName}.$(POD_NAMESPACE).svc.`;
        if (!advertise.startsWith(expected)) {
          bad(`${cw}: --advertise_host=${advertise} is not its stable name ${expected}...`);
        }
        for (const v of ['POD_NAME', 'POD_NAMESPACE']) {
          const e = (c.env || []).find((x) => x.name === v);
          if (!e || !e.valueFrom || !e.valueFrom.fieldRef) {
            bad(`${cw}: env ${v} is not from the downward API`);
          }
        }
        const master = flagValue(flags, 'master') || '';
        const [mhost, mport] = master.split(':');
        const msvc = services.find((s) => s.metadata.name === mhost);
        if (!msvc || !(msvc.spec.ports || []).some((p) => p.port === Number(mport))) {
          bad(`${cw}: --master=${master} is not a Service of these manifests`);
        }
        const dataDir = flagValue(flags, 'data_dir') || '';
        if (!underMount(dataDir, mounts, volumesByName, (v) => v.emptyDir)) {
          bad(`${cw}: --data_dir=${dataDir} is not on an emptyDir`);
        }
        // Memory: slots x task memory, plus at least 256 MiB for the daemon.
        const slots = Number(flagValue(flags, 'slots'));
        const taskMb = Number(flagValue(flags, 'task_memory_mb'));
        if (!(slots > 0) || !(taskMb > 0)) {
          bad(`${cw}: --slots and --task_memory_mb must be set (got ${slots}, ${taskMb})`);
        } else {
          const needed = (slots * taskMb + 256) * kMiB;
          for (const [kind, q] of [['request', req.memory], ['limit', lim.memory]]) {
            const have = parseQuantity(q);
            if (have === null || have < needed) {
              bad(`${cw}: memory ${kind} ${q} is below ${slots} slots x ${taskMb} MiB + ` +
                  `256 MiB = ${needed / kMiB} MiB`);
            }
          }
        }
        // Drain, then exit, before the kubelet's SIGKILL.
        const drainMs = Number(flagValue(flags, 'drain_timeout_ms'));
        const graceS = spec.terminationGracePeriodSeconds === undefined ?
            30 : spec.terminationGracePeriodSeconds;
        if (!(drainMs > 0) || drainMs + 5000 > graceS * 1000) {
          bad(`${cw}: --drain_timeout_ms=${drainMs} does not end 5 s before the ` +
              `${graceS} s grace period`);
        }
        if (!pdbs.some((p) => labelsMatch(p.spec.selector.matchLabels, podLabels))) {
          bad(`${cw}: no PodDisruptionBudget covers the workers`);
        }
      }

      // The data volume: the same ReadWriteMany claim at /data.
      const dataMount = mounts.find((m) => m.mountPath === '/data');
      const dataVol = dataMount && volumesByName[dataMount.name];
      const claim = dataVol && dataVol.persistentVolumeClaim &&
          pvcs[dataVol.persistentVolumeClaim.claimName];
      if (!claim || !(claim.spec.accessModes || []).includes('ReadWriteMany')) {
        bad(`${cw}: /data is not a ReadWriteMany claim of these manifests`);
      }
    }
  }
  for (const b of ['mr-master', 'mr-worker']) {
    if (!binariesSeen.has(b)) problem(`no container runs ${b}`);
  }
}

// ---------------------------------------------------------------------------

function main(argv) {
  let schemaOnly = false;
  const knownFlags = new Map();
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--schema-only') {
      schemaOnly = true;
    } else if (a === '--known-flags' && i + 1 < argv.length) {
      const [bin, file] = argv[++i].split('=');
      // absl's --helpfull: "    --name (description); default: ...;".
      // mrctl's help: every --name it mentions.
      const text = fs.readFileSync(file, 'utf8');
      const re = bin === 'mrctl' ? /--([a-z][a-z0-9_-]*)/g : /^\s+--([A-Za-z0-9_]+) \(/gm;
      const names = new Set([...text.matchAll(re)].map((m) => m[1]));
      if (names.size === 0) {
        console.error(`check_manifests: no flags found in ${file} (${bin})`);
        return 2;
      }
      knownFlags.set(bin, names);
    } else if (a.startsWith('--')) {
      console.error(`check_manifests: unknown option ${a}`);
      return 2;
    } else {
      files.push(a);
    }
  }
  if (files.length === 0) {
    console.error('usage: check_manifests.js [--schema-only] [--known-flags BIN=FILE]... FILE...');
    return 2;
  }

  const {ajv, kinds} = makeValidator();
  let problems = 0;
  for (const file of files) {
    const problem = (what) => {
      problems++;
      console.log(`${file}: ${what}`);
    };
    const docs = [];
    for (const d of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
      if (d.errors.length > 0) {
        problem(`YAML: ${d.errors.map((e) => e.message).join('; ')}`);
        continue;
      }
      const obj = d.toJS();
      if (obj !== null) docs.push(obj);
    }
    if (docs.length === 0) problem('no documents');
    for (const doc of docs) {
      const where = `${doc.kind}/${doc.metadata && doc.metadata.name}`;
      const id = kinds.get(`${doc.apiVersion} ${doc.kind}`);
      if (!id) {
        problem(`${where}: no schema for apiVersion ${doc.apiVersion} kind ${doc.kind}`);
        continue;
      }
      const validate = ajv.getSchema(id);
      if (!validate(doc)) {
        // oneOf [X, null] reports X's errors and then "must be null" and
        // "must match exactly one schema": the first ones are the news (and
        // should nothing else remain, all are shown).
        const noise = (e) =>
            e.keyword === 'oneOf' || (e.keyword === 'type' && e.params.type === 'null');
        const news = validate.errors.filter((e) => !noise(e));
        for (const e of news.length > 0 ? news : validate.errors) {
          const extra = e.keyword === 'additionalProperties' ?
              ` (unknown field "${e.params.additionalProperty}")` : '';
          problem(`${where}: schema ${id}: ${e.instancePath || '/'} ${e.message}${extra}`);
        }
      }
    }
    if (!schemaOnly) checkInvariants(docs, knownFlags, problem);
    console.error(`check_manifests: ${file}: ${docs.length} documents checked`);
  }
  return problems > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
