import com.example.cvp.CiMessage
import com.example.cvp.Text
import com.example.cvp.Values
import groovy.json.JsonOutput

/**
 * cvpGroupEvent(component:, errataId:, images:, namespace:, contact:, ...): a redhat-container-group
 * test.queued body (a Map), as the trigger job sends it to simulate a group-testing event.
 *
 *   component     product, e.g. 'Ansible Tower' (required)
 *   errataId      advisory id, a positive whole number or its digits (required)
 *   images        text, one image a line (required, at least one rebuilt image):
 *                   name=full_name [id=<brew build id>] [nvr=<n-v-r>] [component=<c>] [issuer=<who>]
 *                 `name=` alone: the image was not rebuilt and is left out of the event.
 *                 Defaults: component <name>-container, nvr <component>-<tag>, issuer as below,
 *                 id a stable number derived from the pull spec. Or a list of image maps, used as is.
 *   issuer        default 'freshmaker' (what teams' listeners check for automatic rebuilds)
 *   groupId       artifact.id; default a new random UUID
 *   namespace, type ('default'), category ('functional'): the test the event asks for
 *   contact       [name:, team:, docs:, email:] (required)
 *   runUrl        default env.BUILD_URL; logUrl default runUrl + 'console'
 *   pipelineId    default cvp-<groupId>; pipelineName default env.JOB_NAME, else 'cvp-trigger'
 *   simulated     true: the body carries cvp_simulated: true, so that results for it are never taken
 *                 for real ones (the validator's reports and CVP honour the mark)
 * Fails the build listing every problem. Prints the event.
 */
def call(Map args = [:]) {
    List<String> problems = []
    if (Values.blank(args.component)) {
        problems << 'component: missing'
    }
    Long errataId = Values.positiveLong(args.errataId)
    if (errataId == null) {
        problems << "errataId: '${args.errataId}' is not a positive whole number".toString()
    }
    String issuer = args.issuer ?: 'freshmaker'
    List<Map> images = []
    if (args.images instanceof List) {
        images = (List<Map>) args.images
    } else {
        Map parsed = Text.images(args.images, issuer)
        problems.addAll(parsed.problems)
        images = parsed.images
        if (!parsed.notRebuilt.isEmpty()) {
            echo "cvpGroupEvent: not rebuilt, left out: ${parsed.notRebuilt.join(', ')}"
        }
    }
    if (images.isEmpty() && problems.isEmpty()) {
        problems << 'images: no rebuilt image (give at least one name=full_name line)'
    }
    String type = args.type ?: 'default'
    String category = args.category ?: 'functional'
    problems.addAll(CiMessage.testProblems(args.namespace, type, category))
    problems.addAll(CiMessage.contactProblems(args.contact))
    String runUrl = Values.firstNonBlank([args.runUrl, env?.BUILD_URL])
    if (runUrl == null) {
        problems << 'runUrl: not given, and env.BUILD_URL is not set'
    }
    if (!problems.isEmpty()) {
        error("cvpGroupEvent: ${problems.join('; ')}")
    }
    String groupId = Values.firstNonBlank([args.groupId]) ?: UUID.randomUUID().toString()
    Map body = CiMessage.queued(
        contact: args.contact,
        runUrl: runUrl,
        logUrl: Values.firstNonBlank([args.logUrl]) ?: (runUrl.endsWith('/') ? runUrl : runUrl + '/') + 'console',
        artifact: [
            type     : 'redhat-container-group',
            id       : groupId,
            component: args.component.toString(),
            errata_id: errataId,
            images   : images,
        ],
        pipelineId: args.pipelineId ?: "cvp-${groupId}".toString(),
        pipelineName: Values.firstNonBlank([args.pipelineName, env?.JOB_NAME]) ?: 'cvp-trigger',
        pipelineBuild: Values.str(env?.BUILD_NUMBER),
        namespace: args.namespace,
        type: type,
        category: category,
        note: args.note)
    if (args.simulated) {
        body.cvp_simulated = true
    }
    echo "cvpGroupEvent:\n${JsonOutput.prettyPrint(JsonOutput.toJson(body))}"
    return body
}
