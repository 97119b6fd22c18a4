#!/usr/bin/env python3
"""
Generates jms-plugin-steps.json: the parameter names of the JMS Messaging plugin's Pipeline steps
and of the describables passed to them, per plugin major, read from the plugin's own Java source.
CI has no network, so the table is committed; run this again to check it or to add a release:

    git clone https://github.com/jenkinsci/jms-messaging-plugin /tmp/jms
    python3 jenkins/test/binding/generate-jms-binding.py /tmp/jms > jenkins/test/binding/jms-plugin-steps.json

A parameter is what Pipeline's DescribableModel binds: the @DataBoundConstructor's parameters and
the @DataBoundSetter setters, the superclasses' included (plain setters, @Deprecated ones too, are
not bindable and are left out).
"""
import json
import re
import subprocess
import sys

MAJORS = {'1': 'parent-1.1.28', '2': 'parent-2.0.3'}
CI = 'plugin/src/main/java/com/redhat/jenkins/plugins/ci/'
# name in Pipeline -> (kind, source file, class, nested class or None)
TARGETS = {
    'ciBuildTrigger': ('symbol', 'CIBuildTrigger.java', 'CIBuildTrigger', None),
    'sendCIMessage': ('step', 'pipeline/CIMessageSenderStep.java', 'CIMessageSenderStep', None),
    'waitForCIMessage': ('step', 'pipeline/CIMessageSubscriberStep.java', 'CIMessageSubscriberStep', None),
    'activeMQSubscriber': ('symbol', 'provider/data/ActiveMQSubscriberProviderData.java', 'ActiveMQSubscriberProviderData', None),
    'activeMQPublisher': ('symbol', 'provider/data/ActiveMQPublisherProviderData.java', 'ActiveMQPublisherProviderData', None),
    'MessagingProviderOverrides': ('map', 'messaging/MessagingProviderOverrides.java', 'MessagingProviderOverrides', None),
    'MsgCheck': ('map', 'messaging/checks/MsgCheck.java', 'MsgCheck', None),
    'ProviderDataEnvelope': ('map', 'CIBuildTrigger.java', 'CIBuildTrigger', 'ProviderDataEnvelope'),
}
SUPERS = {
    'ActiveMQProviderData': 'provider/data/ActiveMQProviderData.java',
    'ProviderData': 'provider/data/ProviderData.java',
}


def show(repo, tag, path):
    return subprocess.run(['git', '-C', repo, 'show', f'{tag}:{CI}{path}'], check=True, capture_output=True, text=True).stdout


def split_params(text):
    out, depth, cur = [], 0, ''
    for c in text:
        if c == '<':
            depth += 1
        elif c == '>':
            depth -= 1
        if c == ',' and depth == 0:
            out.append(cur)
            cur = ''
        else:
            cur += c
    if cur.strip():
        out.append(cur)
    params = []
    for p in out:
        p = re.sub(r'@\w+\s*', '', p).replace('final ', '').strip()
        typ, name = p.rsplit(None, 1)
        params.append((name, typ))
    return params


def class_body(src, cls, nested):
    if not nested:
        return src
    start = src.index(f'class {nested}')
    depth, i = 0, src.index('{', start)
    for j in range(i, len(src)):
        depth += {'{': 1, '}': -1}.get(src[j], 0)
        if depth == 0:
            return src[start:j + 1]
    raise ValueError(nested)


def bindable(src):
    params = {}
    ctor = re.search(r'@DataBoundConstructor\s+public\s+\w+\s*\(([^)]*)\)', src)
    if ctor:
        for name, typ in split_params(ctor.group(1)):
            params[name] = typ
    for m in re.finditer(r'@DataBoundSetter\s+public\s+void\s+set(\w+)\s*\(\s*(?:final\s+)?([\w<>?, .]+?)\s+\w+\s*\)', src):
        params[m.group(1)[0].lower() + m.group(1)[1:]] = m.group(2).strip()
    return params


def describe(repo, tag, path, cls, nested):
    src = show(repo, tag, path)
    body = class_body(src, cls, nested)
    params = {}
    if not nested:
        sup = re.search(rf'class\s+{cls}\s+extends\s+(\w+)', src)
        while sup and sup.group(1) in SUPERS:
            ssrc = show(repo, tag, SUPERS[sup.group(1)])
            params.update(bindable(ssrc))
            sup = re.search(rf'class\s+{sup.group(1)}\s+extends\s+(\w+)', ssrc)
        body = re.split(r'public\s+static\s+(?:final\s+)?class\s+\w+Descriptor', body)[0]
    params.update(bindable(body))
    return params


def main():
    repo = sys.argv[1]
    out = {
        'plugin': 'jenkinsci/jms-messaging-plugin',
        'generatedBy': 'jenkins/test/binding/generate-jms-binding.py',
        'majors': {},
    }
    for major, tag in MAJORS.items():
        commit = subprocess.run(['git', '-C', repo, 'rev-parse', f'{tag}^{{commit}}'], check=True, capture_output=True, text=True).stdout.strip()
        entry = {'tag': tag, 'commit': commit, 'describables': {}}
        for name, (kind, path, cls, nested) in TARGETS.items():
            try:
                params = describe(repo, tag, path, cls, nested)
            except (subprocess.CalledProcessError, ValueError):
                continue
            entry['describables'][name] = {'kind': kind, 'class': nested or cls, 'parameters': dict(sorted(params.items()))}
        enum = None
        try:
            enum = re.search(r'enum MESSAGE_TYPE\s*\{([^;]*);', subprocess.run(
                ['git', '-C', repo, 'show', f'{tag}:plugin/src/main/java/com/redhat/utils/MessageUtils.java'],
                check=True, capture_output=True, text=True).stdout)
        except subprocess.CalledProcessError:
            pass
        if enum:
            entry['MESSAGE_TYPE'] = re.findall(r'(\w+)\(', enum.group(1))
        out['majors'][major] = entry
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
