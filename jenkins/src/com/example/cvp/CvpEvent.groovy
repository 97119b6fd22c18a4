package com.example.cvp

/**
 * A typed view of a redhat-container-group event (ci-messages 1.x, test.queued), as cvpEvent() returns it.
 *
 * Serializable because a pipeline keeps it across steps (the CPS engine saves the program state, e.g.
 * while a `build` step waits). Loops are plain for loops so the class behaves the same whether or not
 * Jenkins CPS-transforms it.
 */
class CvpEvent implements Serializable {
    private static final long serialVersionUID = 1L

    static final String GROUP = 'redhat-container-group'

    /** artifact.type: always redhat-container-group. */
    String artifactType
    /** artifact.id: the group's id. */
    String artifactId
    /** artifact.component: the product, e.g. Ansible Tower. */
    String component
    /** artifact.errata_id: the advisory. */
    Long errataId
    /** artifact.images: one map per image (name, full_name, id, nvr, component, issuer), as received. */
    List<Map> images
    /** CVP_RUN_ID of this build ('' when the build was not started by CVP). */
    String runId
    /** Where the event came from: text, file <path>, CVP_EVENT, CI_MESSAGE (parameter) or env.CI_MESSAGE. */
    String source
    /** The whole event body, as parsed. */
    Map body
    /**
     * True when the event was simulated (cvp_simulated: true, set by the trigger pipeline and
     * `cvp trigger`): its results are marked the same way, so they are never taken for real ones.
     */
    boolean simulated

    /** The body field that marks a simulated event, and the JMS property that says the same. */
    static final String SIMULATED_FIELD = 'cvp_simulated'
    static final String SIMULATED_PROPERTY = 'CVP_SIMULATED'

    /**
     * What is wrong with an event body, one readable sentence per problem naming the field; empty when
     * it is a group event this library can use. Only what the library relies on is checked (the full
     * contract is the JSON Schema the CVP daemon validates with); an image's full_name may be empty
     * or missing: that image was not rebuilt.
     */
    static List<String> problems(Object body) {
        List<String> out = []
        if (!(body instanceof Map)) {
            out << 'the event is not a JSON object'
            return out
        }
        Object artifact = body.artifact
        if (!(artifact instanceof Map)) {
            out << 'no artifact (expected an object at $.artifact)'
            return out
        }
        String type = Values.str(artifact.type)
        if (Values.blank(type)) {
            out << "no artifact.type (expected '${GROUP}')".toString()
            return out
        }
        if (type != GROUP) {
            out << "artifact.type is '${type}', expected '${GROUP}' (a group-testing event, topic VirtualTopic.eng.ci.${GROUP}.test.queued)".toString()
            return out
        }
        if (Values.blank(artifact.id)) {
            out << 'no artifact.id'
        }
        if (Values.blank(artifact.component)) {
            out << 'no artifact.component'
        }
        if (Values.isNull(artifact.errata_id)) {
            out << 'no artifact.errata_id'
        } else if (Values.positiveLong(artifact.errata_id) == null) {
            out << "artifact.errata_id '${artifact.errata_id}' is not a positive whole number".toString()
        }
        Object images = artifact.images
        if (!(images instanceof List)) {
            out << 'no artifact.images (expected a list of images)'
        } else if (((List) images).isEmpty()) {
            out << 'artifact.images is empty'
        } else {
            Set<String> seen = new HashSet<String>()
            List list = (List) images
            for (int i = 0; i < list.size(); i++) {
                Object image = list.get(i)
                if (!(image instanceof Map)) {
                    out << "artifact.images[${i}] is not an object".toString()
                } else if (Values.blank(image.name)) {
                    out << "artifact.images[${i}] has no name".toString()
                } else if (!seen.add(image.name.toString())) {
                    out << "artifact.images has two images named '${image.name}'".toString()
                }
            }
        }
        return out
    }

    /** The view of a body that problems() found nothing wrong with. */
    static CvpEvent of(Map body, String runId, String source) {
        Map artifact = (Map) body.artifact
        List<Map> images = []
        for (Object image : (List) artifact.images) {
            images << (Map) image
        }
        return new CvpEvent(
            artifactType: Values.str(artifact.type),
            artifactId: Values.str(artifact.id),
            component: Values.str(artifact.component),
            errataId: Values.positiveLong(artifact.errata_id),
            images: images,
            runId: runId ?: '',
            source: source,
            body: body,
            simulated: body[SIMULATED_FIELD] == true)
    }

    /** The image with this name, or null when the event has none. */
    Map image(String name) {
        for (Map image : images) {
            if (Values.str(image.name) == name) {
                return image
            }
        }
        return null
    }

    /** The pull spec of the image with this name; '' when the image was not rebuilt (absent, or no full_name). */
    String imageFullName(String name) {
        Map image = image(name)
        return image == null || Values.blank(image.full_name) ? '' : image.full_name.toString().trim()
    }

    /** Whether this image of the event was rebuilt (it has a full_name). */
    static boolean rebuilt(Map image) {
        return image != null && !Values.blank(image.full_name)
    }

    /**
     * Job parameters from image names: [ 'ansible-tower': 'TOWER_CONTAINER_IMAGE' ] gives
     * [ TOWER_CONTAINER_IMAGE: <full_name or ''> ], in the order given.
     */
    Map<String, String> imageParameters(Map imageToParameter) {
        Map<String, String> out = new LinkedHashMap<String, String>()
        for (Object name : imageToParameter.keySet()) {
            out.put(imageToParameter.get(name).toString(), imageFullName(name.toString()))
        }
        return out
    }

    /**
     * One line about the event, for logs. Call it explicitly: Jenkins CPS-transforms library classes,
     * and a transformed toString() called implicitly from Java code (string interpolation, println)
     * does not return its value there; hence no toString() override.
     */
    String describe() {
        return "${simulated ? 'SIMULATED ' : ''}${artifactType} ${artifactId} (${component}, errata ${errataId}, ${images.size()} image(s), from ${source})".toString()
    }
}
