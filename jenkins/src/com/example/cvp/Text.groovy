package com.example.cvp

/**
 * Parsers for the multi-line text parameters of the pipelines ("KEY=value" lines, image lines).
 * Each returns [values..., problems: [...]] so that the calling step reports every problem at once.
 */
class Text implements Serializable {
    private static final long serialVersionUID = 1L

    /**
     * "KEY=value" lines into an ordered map; blank lines and lines starting with # are skipped; the
     * value may be empty and may contain '='. Returns [values: Map, problems: List].
     */
    static Map keyValues(Object text) {
        Map<String, String> values = new LinkedHashMap<String, String>()
        List<String> problems = []
        List<String> lines = Values.isNull(text) ? [] : text.toString().readLines()
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim()
            if (line.isEmpty() || line.startsWith('#')) {
                continue
            }
            int eq = line.indexOf('=')
            if (eq <= 0) {
                problems << "line ${i + 1}: '${line}' is not KEY=value".toString()
                continue
            }
            String key = line.substring(0, eq).trim()
            if (values.containsKey(key)) {
                problems << "line ${i + 1}: '${key}' is given twice".toString()
                continue
            }
            values.put(key, line.substring(eq + 1).trim())
        }
        return [values: values, problems: problems]
    }

    /**
     * Image lines of the trigger job into group images:
     *   name=full_name [id=<brew build id>] [nvr=<n-v-r>] [component=<brew component>] [issuer=<who>]
     * `name=` with no pull spec means the image was not rebuilt: it is left out of the event.
     * Defaults: component <name>-container, nvr <component>-<tag> (the tag must be version-release),
     * issuer the given default, id a stable number derived from the pull spec (simulated events only).
     * Returns [images: List<Map>, notRebuilt: List<String>, problems: List<String>].
     */
    static Map images(Object text, String defaultIssuer) {
        List<Map> images = []
        List<String> notRebuilt = []
        List<String> problems = []
        Set<String> names = new HashSet<String>()
        List<String> lines = Values.isNull(text) ? [] : text.toString().readLines()
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim()
            if (line.isEmpty() || line.startsWith('#')) {
                continue
            }
            String where = "image line ${i + 1}".toString()
            List<String> words = line.split(/\s+/) as List<String>
            String first = words.get(0)
            int eq = first.indexOf('=')
            if (eq <= 0) {
                problems << "${where}: '${line}' does not start with name=full_name".toString()
                continue
            }
            String name = first.substring(0, eq)
            String fullName = first.substring(eq + 1)
            if (!names.add(name)) {
                problems << "${where}: image '${name}' is given twice".toString()
                continue
            }
            Map<String, String> extra = new LinkedHashMap<String, String>()
            boolean bad = false
            for (int w = 1; w < words.size(); w++) {
                String word = words.get(w)
                int e = word.indexOf('=')
                String key = e > 0 ? word.substring(0, e) : ''
                if (!(key in ['id', 'nvr', 'component', 'issuer'])) {
                    problems << "${where}: '${word}' is not one of id=, nvr=, component=, issuer=".toString()
                    bad = true
                } else {
                    extra.put(key, word.substring(e + 1))
                }
            }
            if (bad) {
                continue
            }
            if (fullName.isEmpty()) {
                notRebuilt << name
                continue
            }
            String component = extra.component ?: "${name}-container".toString()
            String nvr = extra.nvr
            if (nvr == null) {
                String tag = tagOf(fullName)
                if (tag == null || !(tag ==~ /[^\s-]+-[^\s-]+/)) {
                    problems << "${where}: cannot derive an NVR from '${fullName}' (its tag must be version-release, e.g. :3.5.4-2): add nvr=<name-version-release>".toString()
                    continue
                }
                nvr = "${component}-${tag}".toString()
            }
            Object id = extra.id
            if (id == null) {
                id = 10000000L + Math.abs((long) fullName.hashCode()) % 90000000L
            } else if (Values.positiveLong(id) == null) {
                problems << "${where}: id '${id}' is not a positive whole number".toString()
                continue
            } else {
                id = Values.positiveLong(id)
            }
            images << [
                name     : name,
                full_name: fullName,
                id       : id,
                nvr      : nvr,
                component: component,
                issuer   : extra.issuer ?: defaultIssuer,
            ]
        }
        return [images: images, notRebuilt: notRebuilt, problems: problems]
    }

    /** The tag of a pull spec (registry/repo:tag or registry/repo:tag@sha256:...), or null. */
    static String tagOf(String pullSpec) {
        String s = pullSpec
        int at = s.indexOf('@')
        if (at >= 0) {
            s = s.substring(0, at)
        }
        int slash = s.lastIndexOf('/')
        int colon = s.lastIndexOf(':')
        return colon > slash ? s.substring(colon + 1) : null
    }
}
