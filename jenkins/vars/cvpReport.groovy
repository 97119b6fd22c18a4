import com.example.cvp.CiMessage
import com.example.cvp.CvpEvent
import com.example.cvp.Values

/**
 * cvpReport(event:, namespace:, ...): reports the outcome of testing an event as ci-messages 1.x
 * test.complete or test.error messages, sent with sendCIMessage (through cvpSendMessage).
 *
 *   event         what cvpEvent() returned (required)
 *   namespace     testcase prefix, e.g. 'ansible-tower-35' (required); the testcase is namespace.type.category
 *   type          default 'default'
 *   category      default 'functional'; one of functional, integration, interoperability,
 *                 static-analysis, system, validation
 *   contact       [name:, team:, docs:, email:] (required; url, irc, slack, version optional)
 *   the verdict, one of:
 *     result      'passed' | 'failed' | 'info' | 'needs_inspection' | 'not_applicable' -> test.complete
 *     buildResult a Jenkins result ('SUCCESS', 'UNSTABLE', 'FAILURE', ...) or what `build` returned,
 *                 mapped by cvpResultOf; ABORTED / NOT_BUILT -> test.error
 *     errorReason why the testing did not finish -> test.error with error.reason
 *     (none)      currentBuild.currentResult, as buildResult
 *   per           'image' (default): one brew-build message per image of the group; an image that
 *                 was not rebuilt (no full_name) is reported test.complete not_applicable;
 *                 'artifact': one redhat-container-group message for the whole group, whose
 *                 artifact is the event's, with only the images that were rebuilt
 *   runUrl        default env.BUILD_URL;  logUrl  default runUrl + 'console'
 *   pipelineId    default the CVP_RUN_ID the job was started with (so CVP ends that run at once), else cvp-<namespace>-<image build id> per image, cvp-<namespace>-<group id> per artifact
 *   pipelineName  default env.JOB_NAME (else namespace); pipeline.build is env.BUILD_NUMBER when set
 *   system        list of [architecture:, os:, provider:] (test.complete; default [])
 *   note          optional note
 *   providerName  the provider to publish with, default 'Red Hat UMB' (useQueues off);
 *   jmsPlugin     the JMS Messaging plugin's major, '1' or '2' (default), see cvpSendMessage
 *
 * Every message carries the JMS property CVP_RUN_ID when the event view has a run id; the results of
 * a simulated event (event.simulated) carry cvp_simulated: true and the JMS property CVP_SIMULATED.
 * Fails the build listing every problem with the arguments before anything is sent.
 * Returns the list of [topic:, body:, messageId:] it sent, in order.
 */
def call(Map args = [:]) {
    List<String> problems = []
    if (!(args.event instanceof CvpEvent)) {
        error('cvpReport: event: pass the view cvpEvent() returned')
    }
    CvpEvent event = (CvpEvent) args.event
    String per = args.per ?: 'image'
    if (!(per in ['image', 'artifact'])) {
        problems << "per: '${per}' is not 'image' or 'artifact'".toString()
    }
    String type = args.type ?: 'default'
    String category = args.category ?: 'functional'
    problems.addAll(CiMessage.testProblems(args.namespace, type, category))
    problems.addAll(CiMessage.contactProblems(args.contact))
    Map verdict = verdictOf(args, problems)
    String runUrl = Values.firstNonBlank([args.runUrl, env?.BUILD_URL])
    if (runUrl == null) {
        problems << 'runUrl: not given, and env.BUILD_URL is not set'
    }
    boolean anyRebuilt = false
    for (Map image : event.images) {
        if (per == 'image' || CvpEvent.rebuilt(image)) {
            problems.addAll(CiMessage.imageProblems(image))
        }
        anyRebuilt = anyRebuilt || CvpEvent.rebuilt(image)
    }
    if (per == 'artifact' && !anyRebuilt) {
        problems << 'per artifact: no image of the group was rebuilt (none has a full_name), so there is nothing to report on'
    }
    if (!problems.isEmpty()) {
        error("cvpReport: ${problems.join('; ')}")
    }
    String logUrl = Values.firstNonBlank([args.logUrl]) ?: (runUrl.endsWith('/') ? runUrl : runUrl + '/') + 'console'

    Map common = [
        contact      : args.contact,
        runUrl       : runUrl,
        logUrl       : logUrl,
        namespace    : args.namespace,
        type         : type,
        category     : category,
        pipelineName : Values.firstNonBlank([args.pipelineName, env?.JOB_NAME, args.namespace]),
        pipelineBuild: Values.str(env?.BUILD_NUMBER),
        system       : args.system ?: [],
        note         : args.note,
    ]
    List<Map> messages = []
    if (per == 'artifact') {
        Map m = new LinkedHashMap(common)
        m.putAll(verdict)
        m.artifact = CiMessage.groupArtifact((Map) event.body.artifact)
        m.pipelineId = args.pipelineId ?: (event.runId ?: "cvp-${args.namespace}-${event.artifactId}".toString())
        messages << m
    } else {
        for (Map image : event.images) {
            Map m = new LinkedHashMap(common)
            if (CvpEvent.rebuilt(image)) {
                m.putAll(verdict)
            } else {
                m.stage = 'complete'
                m.result = 'not_applicable'
                m.note = "image ${image.name} was not rebuilt for this event (no full_name): not tested".toString()
            }
            m.artifact = CiMessage.brewBuild(image)
            m.pipelineId = args.pipelineId ?: (event.runId ?: "cvp-${args.namespace}-${m.artifact.id}".toString())
            messages << m
        }
    }

    List<Map> sent = []
    for (Map m : messages) {
        Map body = CiMessage.finished(m)
        if (event.simulated) {
            // Results of a simulated event carry its mark, so that no one takes them for real ones.
            body[CvpEvent.SIMULATED_FIELD] = true
        }
        String topic = CiMessage.topic(body.artifact.type.toString(), m.stage.toString())
        String what = m.stage == 'complete' ? "result ${m.result}" : "error: ${m.reason}"
        String item = body.artifact.nvr ?: body.artifact.id
        echo "cvpReport: ${topic} for ${item} (${args.namespace}.${type}.${category}): ${what}"
        // Only the message id is kept: the plugin's SendResult is not Serializable, and a pipeline
        // variable holding one when the next step starts fails the build (NotSerializableException).
        String messageId = messageIdOf(cvpSendMessage(
            topic: topic,
            body: body,
            properties: [CVP_RUN_ID: event.runId ?: null, (CvpEvent.SIMULATED_PROPERTY): event.simulated ? 'true' : null],
            providerName: args.providerName,
            jmsPlugin: args.jmsPlugin))
        sent << [topic: topic, body: body, messageId: messageId]
    }
    return sent
}

/** The id of a sent message (SendResult.getMessageId()), or null when the plugin returns none. */
private String messageIdOf(Object sendResult) {
    return sendResult == null ? null : Values.str(sendResult.messageId)
}

/** [stage: 'complete', result:] or [stage: 'error', reason:] from the arguments; adds to problems. */
private Map verdictOf(Map args, List<String> problems) {
    List<String> given = []
    for (String key : ['result', 'buildResult', 'errorReason']) {
        if (!Values.blank(args.get(key))) {
            given << key
        }
    }
    if (given.size() > 1) {
        problems << "give one of result, buildResult, errorReason (got ${given.join(', ')})".toString()
        return [:]
    }
    if (!Values.blank(args.errorReason)) {
        return [stage: 'error', reason: args.errorReason.toString()]
    }
    if (!Values.blank(args.result)) {
        String result = args.result.toString()
        if (!CiMessage.RESULTS.contains(result)) {
            problems << "result: '${result}' is not one of ${CiMessage.RESULTS.join(', ')}".toString()
            return [:]
        }
        return [stage: 'complete', result: result]
    }
    Object buildResult = args.buildResult != null ? args.buildResult : (currentBuild?.currentResult ?: currentBuild?.result ?: 'SUCCESS')
    String result = cvpResultOf(buildResult)
    if (result != null) {
        return [stage: 'complete', result: result]
    }
    Object shown = buildResult instanceof CharSequence || buildResult == null ? buildResult : buildResult.result
    String where = buildResult instanceof CharSequence || buildResult == null ? 'the build' : "build ${Values.firstNonBlank([buildResult.fullDisplayName, buildResult.absoluteUrl]) ?: ''}".toString().trim()
    return [stage: 'error', reason: "${where} ended ${shown ?: 'without a result'}, so there is no verdict".toString()]
}
