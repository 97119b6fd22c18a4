package com.example.cvp

import java.text.SimpleDateFormat

/**
 * Pure builders for ci-messages 1.x bodies (test.queued, test.complete, test.error), checked by the
 * project's schemas in schemas/events (the tests validate what these build against them).
 */
class CiMessage implements Serializable {
    private static final long serialVersionUID = 1L

    /** ci-messages version the bodies follow. */
    static final String VERSION = '1.1.0'
    static final List<String> RESULTS = ['passed', 'failed', 'info', 'needs_inspection', 'not_applicable']
    static final List<String> CATEGORIES = ['functional', 'integration', 'interoperability', 'static-analysis', 'system', 'validation']
    static final List<String> CONTACT_FIELDS = ['name', 'team', 'docs', 'email']

    /** VirtualTopic.eng.ci.<artifact type>.test.<stage> */
    static String topic(String artifactType, String stage) {
        return "VirtualTopic.eng.ci.${artifactType}.test.${stage}".toString()
    }

    /** Now, ISO 8601 in UTC with milliseconds, e.g. 2019-10-02T14:03:11.384Z. */
    static String now() {
        SimpleDateFormat format = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
        format.setTimeZone(TimeZone.getTimeZone('UTC'))
        return format.format(new Date())
    }

    /**
     * Jenkins build result -> ci-messages test.result: SUCCESS passed, UNSTABLE needs_inspection,
     * FAILURE failed; null for anything else (ABORTED, NOT_BUILT, unknown, null): no verdict, which a
     * report turns into a test.error.
     */
    static String resultOf(Object buildResult) {
        String r = Values.str(buildResult)
        if (r == null) {
            return null
        }
        switch (r.trim().toUpperCase(Locale.ROOT)) {
            case 'SUCCESS': return 'passed'
            case 'UNSTABLE': return 'needs_inspection'
            case 'FAILURE': return 'failed'
            default: return null
        }
    }

    /** Problems with a contact map (ci-messages requires name, team, docs and email). */
    static List<String> contactProblems(Object contact) {
        List<String> out = []
        if (!(contact instanceof Map)) {
            out << "contact: expected a map with ${CONTACT_FIELDS.join(', ')}".toString()
            return out
        }
        List<String> missing = []
        for (String field : CONTACT_FIELDS) {
            if (Values.blank(((Map) contact).get(field))) {
                missing << field
            }
        }
        if (!missing.isEmpty()) {
            out << "contact: missing ${missing.join(', ')}".toString()
        }
        return out
    }

    /** Problems with a test's namespace, type and category (the testcase is namespace.type.category). */
    static List<String> testProblems(Object namespace, Object type, Object category) {
        List<String> out = []
        if (Values.blank(namespace)) {
            out << 'namespace: missing (the testcase prefix, e.g. ansible-tower-35)'
        } else if (!(namespace.toString() ==~ /[A-Za-z0-9][A-Za-z0-9_.-]*/)) {
            out << "namespace: '${namespace}' must be letters, digits, '_', '.' or '-' (no spaces)".toString()
        }
        if (Values.blank(type)) {
            out << 'type: missing (e.g. default)'
        }
        if (!CATEGORIES.contains(Values.str(category))) {
            out << "category: '${category}' is not one of ${CATEGORIES.join(', ')}".toString()
        }
        return out
    }

    /**
     * Problems that stop an image of a group from being reported: as a brew-build (per image), or in
     * the group's artifact (per artifact) the image needs id, nvr, component and issuer.
     */
    static List<String> imageProblems(Map image) {
        List<String> out = []
        String name = Values.str(image.name)
        List<String> missing = []
        for (String field : ['nvr', 'component', 'issuer']) {
            if (Values.blank(image.get(field))) {
                missing << field
            }
        }
        if (Values.isNull(image.id)) {
            missing << 'id'
        } else if (Values.positiveLong(image.id) == null) {
            out << "image '${name}': id '${image.id}' is not a Brew build id (a positive whole number)".toString()
        }
        if (!missing.isEmpty()) {
            out << "image '${name}': missing ${missing.join(', ')} (needed to report it)".toString()
        }
        return out
    }

    /**
     * The group's artifact for a per-artifact report: as received, with only the images that were
     * rebuilt (an image without a pull spec was not tested, and the contract requires one per image).
     */
    static Map groupArtifact(Map artifact) {
        Map out = new LinkedHashMap(artifact)
        List<Map> images = []
        for (Object image : (List) artifact.images) {
            if (CvpEvent.rebuilt((Map) image)) {
                images << (Map) image
            }
        }
        out.images = images
        return out
    }

    /** The brew-build artifact of one image of a group. */
    static Map brewBuild(Map image) {
        return [
            type     : 'brew-build',
            id       : Values.positiveLong(image.id),
            issuer   : Values.str(image.issuer),
            component: Values.str(image.component),
            nvr      : Values.str(image.nvr),
            scratch  : false,
        ]
    }

    /**
     * A test.complete (o.result) or test.error (o.reason) body.
     * o: stage ('complete' | 'error'), artifact, contact, runUrl, logUrl, namespace, type, category,
     * pipelineId, pipelineName, pipelineBuild (optional), system (complete; default []), note
     * (optional), generatedAt (optional; default now).
     */
    static Map finished(Map o) {
        Map test = [category: o.category, namespace: o.namespace, type: o.type]
        Map body = [
            contact : o.contact,
            run     : [url: o.runUrl, log: o.logUrl],
            artifact: o.artifact,
            pipeline: pipeline(o),
            test    : test,
        ]
        if (o.stage == 'complete') {
            test.result = o.result
            body.system = o.system == null ? [] : o.system
        } else {
            body.error = [reason: o.reason]
        }
        if (!Values.blank(o.note)) {
            body.note = o.note
        }
        body.generated_at = o.generatedAt ?: now()
        body.version = VERSION
        return body
    }

    /** A test.queued body for a group (what the trigger job sends). */
    static Map queued(Map o) {
        Map body = [
            contact : o.contact,
            run     : [url: o.runUrl, log: o.logUrl],
            artifact: o.artifact,
            pipeline: pipeline(o),
            test    : [category: o.category, namespace: o.namespace, type: o.type],
        ]
        if (!Values.blank(o.note)) {
            body.note = o.note
        }
        body.generated_at = o.generatedAt ?: now()
        body.version = VERSION
        return body
    }

    private static Map pipeline(Map o) {
        Map p = [id: o.pipelineId, name: o.pipelineName]
        if (!Values.blank(o.pipelineBuild)) {
            p.build = o.pipelineBuild.toString()
        }
        return p
    }

    /**
     * JMS message properties as the CI-message plugin takes them: KEY=value lines. Keys must be
     * identifiers (JMS selectors); values are flattened to one line.
     */
    static String properties(Map props) {
        List<String> lines = []
        for (Object key : props.keySet()) {
            Object value = props.get(key)
            if (Values.isNull(value)) {
                continue
            }
            if (!(key.toString() ==~ /[A-Za-z_][A-Za-z0-9_]*/)) {
                throw new IllegalArgumentException("message property name '${key}' is not an identifier".toString())
            }
            lines << "${key}=${value.toString().replaceAll(/[\r\n]+/, ' ')}".toString()
        }
        return lines.join('\n')
    }
}
