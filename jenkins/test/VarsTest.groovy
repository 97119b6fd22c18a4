/*
 * Behaviour tests of the library's vars steps and of the pipelines, under plain Groovy (no Jenkins):
 *   groovy -cp <jenkins>/src:<jenkins>/test <jenkins>/test/VarsTest.groovy <jenkins dir> <group queued example> <brew-build example> <out dir>
 * Writes <out dir>/report.json ({cases: [{name, ok, error}], messages}) and every message the steps
 * sent as <out dir>/messages/NNN.json ({case, topic, properties, content}), for the jest test to check
 * against the project's schemas. Exits 1 when any case fails.
 */
import com.example.cvp.CiMessage
import com.example.cvp.CvpEvent
import com.example.cvp.Values
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import net.sf.json.JSONNull

if (args.length != 4) {
    System.err.println('usage: VarsTest.groovy <jenkins dir> <group queued example> <brew-build example> <out dir>')
    System.exit(2)
}
File root = new File(args[0])
String queuedText = new File(args[1]).text
String brewText = new File(args[2]).text
File outDir = new File(args[3])
File messageDir = new File(outDir, 'messages')
messageDir.mkdirs()

List<Map> cases = []
def test = { String name, Closure body -> cases << [name: name, body: body] }

/** A fresh harness (fresh binding and records) per case, standing for JMS Messaging 2.x unless told. */
def harness = { String jmsMajor = '2' -> new PipelineHarness(root, jmsMajor) }
/** Runs body, expecting the strict plugin binding to refuse a call; returns its message. */
def expectBindingError = { Closure body ->
    try {
        body.call()
    } catch (BindingError e) {
        return e.message
    }
    assert false: 'expected the plugin binding to refuse the call'
}
/** The group example as a mutable map. */
def queued = { -> new JsonSlurper().parseText(queuedText) }
def json = { Object o -> JsonOutput.toJson(o) }
Map contact = [name: 'Ansible Tower QE', team: 'Ansible Tower QE', docs: 'https://cvp.example.com/docs', email: 'ansible-tower-qe@example.com']
def reportArgs = { CvpEvent ev, Map extra -> [event: ev, namespace: 'ansible-tower-35', type: 'default', category: 'integration', contact: contact] + extra }

/** Runs body, expecting the error step; returns its message. */
def expectError = { Closure body ->
    try {
        body.call()
    } catch (PipelineError e) {
        return e.message
    }
    assert false: 'expected the error step to fail the build'
}
def contents = { PipelineHarness h -> h.sent.collect { new JsonSlurper().parseText(it.content) } }
def ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/
String TOWER = 'registry.example.com/ansible-tower/ansible-tower:3.5.4-2'
String MEMCACHED = 'registry.example.com/ansible-tower/ansible-tower-memcached:1.5.16-4'
String MESSAGING = 'registry.example.com/ansible-tower/ansible-tower-messaging:3.7.21-6'

// ---------------------------------------------------------------------------------------------- cvpEvent

test('cvpEvent reads env.CI_MESSAGE and gives a typed view; image(name) picks by name') {
    def h = harness()
    h.env.CI_MESSAGE = queuedText
    CvpEvent ev = h.step('cvpEvent')
    assert ev.artifactType == 'redhat-container-group'
    assert ev.artifactId == '6f4c3a52-0d7e-4b8f-a1e9-3c2b5d8e7f01'
    assert ev.component == 'Ansible Tower'
    assert ev.errataId == 47960L
    assert ev.images*.name == ['ansible-tower', 'ansible-tower-memcached', 'ansible-tower-messaging']
    assert ev.image('ansible-tower-memcached').nvr == 'ansible-tower-memcached-container-1.5.16-4'
    assert ev.imageFullName('ansible-tower') == TOWER
    assert ev.imageFullName('ansible-tower-messaging') == MESSAGING
    assert ev.image('ansible-tower-redis') == null
    assert ev.imageFullName('ansible-tower-redis') == ''
    assert ev.runId == ''
    assert ev.source == 'env.CI_MESSAGE'
    assert h.callsOf('readJSON') == [[text: queuedText, returnPojo: true]]
    assert h.echoes == ['cvpEvent: redhat-container-group 6f4c3a52-0d7e-4b8f-a1e9-3c2b5d8e7f01 (Ansible Tower, errata 47960, 3 image(s), from env.CI_MESSAGE)']
}

test('cvpEvent: text: beats CVP_EVENT beats params.CI_MESSAGE beats env.CI_MESSAGE; run id from CVP_RUN_ID') {
    Map a = queued(); a.artifact.id = 'from-text'
    Map b = queued(); b.artifact.id = 'from-cvp-event'
    Map c = queued(); c.artifact.id = 'from-param'
    Map d = queued(); d.artifact.id = 'from-env'
    def h = harness()
    h.env.CI_MESSAGE = json(d)
    assert h.step('cvpEvent').artifactId == 'from-env'
    h.params.CI_MESSAGE = json(c)
    assert h.step('cvpEvent').source == 'CI_MESSAGE'
    assert h.step('cvpEvent').artifactId == 'from-param'
    h.params.CVP_EVENT = json(b)
    assert h.step('cvpEvent').artifactId == 'from-cvp-event'
    assert h.step('cvpEvent', [text: json(a)]).artifactId == 'from-text'
    h.params.CVP_EVENT = '   '
    assert h.step('cvpEvent').artifactId == 'from-param': 'a blank parameter counts as absent'
    h.env.CVP_RUN_ID = 'env-run'
    assert h.step('cvpEvent').runId == 'env-run'
    h.params.CVP_RUN_ID = 'param-run'
    assert h.step('cvpEvent').runId == 'param-run'
}

test('cvpEvent(file:) reads the event from a file') {
    File f = File.createTempFile('event', '.json')
    f.deleteOnExit()
    f.text = queuedText
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [file: f.path])
    assert ev.component == 'Ansible Tower'
    assert ev.source == "file ${f.path}".toString()
    assert h.callsOf('readJSON') == [[file: f.path, returnPojo: true]]
}

test('cvpEvent: an image without full_name was not rebuilt: imageFullName is empty; imageParameters maps names') {
    Map body = queued()
    body.artifact.images[2].full_name = ''
    body.artifact.images[1].remove('full_name')
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: json(body)])
    assert ev.imageFullName('ansible-tower-messaging') == ''
    assert ev.imageFullName('ansible-tower-memcached') == ''
    assert !CvpEvent.rebuilt(ev.image('ansible-tower-messaging'))
    assert CvpEvent.rebuilt(ev.image('ansible-tower'))
    assert ev.imageParameters(['ansible-tower': 'TOWER_CONTAINER_IMAGE', 'ansible-tower-messaging': 'MESSAGING_CONTAINER_IMAGE', 'ansible-tower-redis': 'REDIS_CONTAINER_IMAGE']) ==
        [TOWER_CONTAINER_IMAGE: TOWER, MESSAGING_CONTAINER_IMAGE: '', REDIS_CONTAINER_IMAGE: '']
}

test('cvpEvent fails clearly on an event that is not a group (brew-build)') {
    def h = harness()
    h.env.CI_MESSAGE = brewText
    String message = expectError { h.step('cvpEvent') }
    assert message.startsWith('cvpEvent: env.CI_MESSAGE is not a usable group-testing event')
    assert message.contains("artifact.type is 'brew-build', expected 'redhat-container-group'")
}

test('cvpEvent names every missing field') {
    Map body = queued()
    body.artifact.remove('errata_id')
    body.artifact.component = ''
    body.artifact.images[1].remove('name')
    def h = harness()
    String message = expectError { h.step('cvpEvent', [text: json(body)]) }
    assert message.contains('no artifact.errata_id')
    assert message.contains('no artifact.component')
    assert message.contains('artifact.images[1] has no name')
    assert !message.contains('no artifact.id')
    body = queued()
    body.artifact.images = []
    body.artifact.errata_id = 'RHBA-1'
    message = expectError { h.step('cvpEvent', [text: json(body)]) }
    assert message.contains('artifact.images is empty')
    assert message.contains("artifact.errata_id 'RHBA-1' is not a positive whole number")
    body.remove('artifact')
    assert expectError { h.step('cvpEvent', [text: json(body)]) }.contains('no artifact (expected an object at $.artifact)')
    assert expectError { h.step('cvpEvent', [text: '[1, 2]']) }.contains('the event is not a JSON object')
}

test('cvpEvent fails clearly without an event, and on text that is not JSON') {
    def h = harness()
    String message = expectError { h.step('cvpEvent') }
    assert message.startsWith('cvpEvent: no event:')
    assert message.contains('CI_MESSAGE')
    h.params.CI_MESSAGE = '{"artifact": '
    assert expectError { h.step('cvpEvent') }.startsWith('cvpEvent: CI_MESSAGE is not JSON:')
}

test("readJSON's JSONNull (no returnPojo) counts as missing, not as a value") {
    Map body = queued()
    body.artifact.errata_id = JSONNull.getInstance()
    assert CvpEvent.problems(body).contains('no artifact.errata_id')
    body = queued()
    body.artifact.images[0].full_name = JSONNull.getInstance()
    CvpEvent ev = CvpEvent.of(body, null, 'test')
    assert ev.imageFullName('ansible-tower') == ''
    assert !CvpEvent.rebuilt(ev.image('ansible-tower'))
    assert Values.isNull(JSONNull.getInstance()) && Values.blank(JSONNull.getInstance())
    assert ev.runId == ''
}

// ------------------------------------------------------------------------------------------- cvpResultOf

test('cvpResultOf maps Jenkins results: SUCCESS passed, UNSTABLE needs_inspection, FAILURE failed, else null') {
    def h = harness()
    assert h.step('cvpResultOf', 'SUCCESS') == 'passed'
    assert h.step('cvpResultOf', 'UNSTABLE') == 'needs_inspection'
    assert h.step('cvpResultOf', 'FAILURE') == 'failed'
    assert h.step('cvpResultOf', 'success') == 'passed'
    assert h.step('cvpResultOf', 'ABORTED') == null
    assert h.step('cvpResultOf', 'NOT_BUILT') == null
    assert h.step('cvpResultOf', [null] as Object[]) == null
    assert h.step('cvpResultOf', [result: 'UNSTABLE', absoluteUrl: 'https://jenkins.example.com/job/x/1/']) == 'needs_inspection'
}

// --------------------------------------------------------------------------------------------- cvpReport

test('cvpReport per image: one brew-build.test.complete per image, passed on SUCCESS, the whole contract filled in') {
    def h = harness('1')
    h.params.CVP_RUN_ID = 'run-42'
    h.env.CI_MESSAGE = queuedText
    CvpEvent ev = h.step('cvpEvent')
    long before = System.currentTimeMillis()
    List out = h.step('cvpReport', reportArgs(ev, [buildResult: 'SUCCESS', jmsPlugin: '1']))
    assert out.size() == 3
    assert h.sent.size() == 3
    h.sent.each { m ->
        assert m.api == 'v1'
        assert m.topic == 'VirtualTopic.eng.ci.brew-build.test.complete'
        assert m.providerName == 'Red Hat UMB'
        assert m.messageType == 'Custom'
        assert m.failOnError == true
        assert m.properties == 'CVP_RUN_ID=run-42'
    }
    List bodies = contents(h)
    assert bodies*.artifact*.nvr == ['ansible-tower-container-3.5.4-2', 'ansible-tower-memcached-container-1.5.16-4', 'ansible-tower-messaging-container-3.7.21-6']
    assert bodies*.artifact*.id == [24871234, 24871239, 24871245]
    assert bodies*.test*.result == ['passed', 'passed', 'passed']
    Map first = bodies[0]
    assert first.artifact == [type: 'brew-build', id: 24871234, issuer: 'freshmaker', component: 'ansible-tower-container', nvr: 'ansible-tower-container-3.5.4-2', scratch: false]
    assert first.test == [category: 'integration', namespace: 'ansible-tower-35', type: 'default', result: 'passed']
    assert first.contact == contact
    assert first.run == [url: h.env.BUILD_URL, log: h.env.BUILD_URL + 'console']
    // The run id CVP started the job with: CVP ends that run as soon as this message arrives.
    assert first.pipeline == [id: 'run-42', name: 'cvp/validator', build: '7']
    assert first.system == []
    assert first.version == '1.1.0'
    assert first.generated_at ==~ ISO
    Date at = Date.parse("yyyy-MM-dd'T'HH:mm:ss.SSSX", first.generated_at)
    assert at.time >= before - 1000 && at.time <= System.currentTimeMillis() + 1000: 'generated_at is now, in UTC'
    assert !first.containsKey('error')
    assert out*.topic == h.sent*.topic
    assert out*.messageId == ['ID:harness-1', 'ID:harness-2', 'ID:harness-3']
    assert out*.body*.artifact*.nvr == bodies*.artifact*.nvr
}

test('cvpReport maps UNSTABLE to needs_inspection and FAILURE to failed; default is currentBuild.currentResult') {
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: queuedText])
    h.step('cvpReport', reportArgs(ev, [buildResult: 'UNSTABLE']))
    assert contents(h)*.test*.result == ['needs_inspection'] * 3
    h.sent.clear()
    h.step('cvpReport', reportArgs(ev, [buildResult: [result: 'FAILURE', absoluteUrl: 'https://jenkins.example.com/job/x/9/']]))
    assert contents(h)*.test*.result == ['failed'] * 3
    h.sent.clear()
    h.currentBuild.currentResult = 'UNSTABLE'
    h.step('cvpReport', reportArgs(ev, [:]))
    assert contents(h)*.test*.result == ['needs_inspection'] * 3
    h.sent.clear()
    h.step('cvpReport', reportArgs(ev, [result: 'info']))
    assert contents(h)*.test*.result == ['info'] * 3
    assert h.sent.every { it.properties == '' }: 'no CVP_RUN_ID property without a run id'
}

test('cvpReport per image: an image that was not rebuilt is reported not_applicable') {
    Map body = queued()
    body.artifact.images[2].full_name = ''
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: json(body)])
    h.step('cvpReport', reportArgs(ev, [buildResult: 'FAILURE']))
    List bodies = contents(h)
    assert h.sent*.topic == ['VirtualTopic.eng.ci.brew-build.test.complete'] * 3
    assert bodies*.test*.result == ['failed', 'failed', 'not_applicable']
    assert bodies[2].artifact.nvr == 'ansible-tower-messaging-container-3.7.21-6'
    assert bodies[2].note.contains('not rebuilt')
    assert !bodies[0].containsKey('note')
}

test('cvpReport errorReason: a brew-build.test.error per rebuilt image with error.reason') {
    Map body = queued()
    body.artifact.images[1].full_name = ''
    body.artifact.images[2].id = '24871245'
    def h = harness()
    h.params.CVP_RUN_ID = 'run-43'
    CvpEvent ev = h.step('cvpEvent', [text: json(body)])
    h.step('cvpReport', reportArgs(ev, [errorReason: 'OpenShift cluster could not be provisioned', runUrl: 'https://jenkins.example.com/job/it/5/', logUrl: 'https://jenkins.example.com/job/it/5/consoleText']))
    assert h.sent*.topic == ['VirtualTopic.eng.ci.brew-build.test.error', 'VirtualTopic.eng.ci.brew-build.test.complete', 'VirtualTopic.eng.ci.brew-build.test.error']
    List bodies = contents(h)
    assert bodies[0].error == [reason: 'OpenShift cluster could not be provisioned']
    assert !bodies[0].test.containsKey('result')
    assert !bodies[0].containsKey('system')
    assert bodies[1].test.result == 'not_applicable'
    assert bodies[2].artifact.id == 24871245: 'a string build id is sent as a number'
    assert bodies[0].run == [url: 'https://jenkins.example.com/job/it/5/', log: 'https://jenkins.example.com/job/it/5/consoleText']
}

test('cvpReport: a build that ended ABORTED has no verdict: test.error naming the result') {
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: queuedText])
    h.step('cvpReport', reportArgs(ev, [buildResult: [result: 'ABORTED', fullDisplayName: 'Pipelines » openshift-integration-pipeline #1234', absoluteUrl: 'https://jenkins.example.com/job/x/1234/']]))
    assert h.sent*.topic == ['VirtualTopic.eng.ci.brew-build.test.error'] * 3
    assert contents(h)[0].error.reason == 'build Pipelines » openshift-integration-pipeline #1234 ended ABORTED, so there is no verdict'
    h.sent.clear()
    h.currentBuild.currentResult = 'NOT_BUILT'
    h.step('cvpReport', reportArgs(ev, [:]))
    assert contents(h)[0].error.reason == 'the build ended NOT_BUILT, so there is no verdict'
}

test('cvpReport per artifact: one redhat-container-group message (complete, then error)') {
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: queuedText])
    h.step('cvpReport', reportArgs(ev, [per: 'artifact', buildResult: 'SUCCESS', system: [[architecture: 'x86_64', os: 'openshift-4.2', provider: 'openshift']], note: 'group run']))
    h.step('cvpReport', reportArgs(ev, [per: 'artifact', errorReason: 'No test results after 24 hours', pipelineId: 'tower-group-1', pipelineName: 'tower-group']))
    assert h.sent*.topic == ['VirtualTopic.eng.ci.redhat-container-group.test.complete', 'VirtualTopic.eng.ci.redhat-container-group.test.error']
    List bodies = contents(h)
    assert bodies[0].artifact == queued().artifact
    assert bodies[0].test.result == 'passed'
    assert bodies[0].system == [[architecture: 'x86_64', os: 'openshift-4.2', provider: 'openshift']]
    assert bodies[0].note == 'group run'
    assert bodies[0].pipeline.id == 'cvp-ansible-tower-35-6f4c3a52-0d7e-4b8f-a1e9-3c2b5d8e7f01'
    assert bodies[1].error.reason == 'No test results after 24 hours'
    assert bodies[1].pipeline == [id: 'tower-group-1', name: 'tower-group', build: '7']
}

test('cvpReport with jmsPlugin v2 (the default) sends through activeMQPublisher(...)') {
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: queuedText])
    h.step('cvpReport', reportArgs(ev, [per: 'artifact', result: 'passed', jmsPlugin: 'v2', providerName: 'UMB stage']))
    assert h.sent.size() == 1
    assert h.sent[0].api == 'v2'
    assert h.sent[0].providerName == 'UMB stage'
    assert h.sent[0].topic == 'VirtualTopic.eng.ci.redhat-container-group.test.complete'
    assert h.callsOf('activeMQPublisher')[0].failOnError == true
}

test('cvpReport lists every problem with its arguments and sends nothing') {
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: queuedText])
    String message = expectError {
        h.step('cvpReport', [event: ev, namespace: 'ansible tower', category: 'smoke', contact: [name: 'QE', team: 'QE'], result: 'great', per: 'everything'])
    }
    assert message.startsWith('cvpReport: ')
    assert message.contains("per: 'everything' is not 'image' or 'artifact'")
    assert message.contains("namespace: 'ansible tower' must be")
    assert message.contains("category: 'smoke' is not one of functional, integration")
    assert message.contains('contact: missing docs, email')
    assert message.contains("result: 'great' is not one of passed, failed")
    assert expectError { h.step('cvpReport', reportArgs(ev, [result: 'passed', errorReason: 'x'])) }.contains('give one of result, buildResult, errorReason (got result, errorReason)')
    assert expectError { h.step('cvpReport', [namespace: 'x']) } == 'cvpReport: event: pass the view cvpEvent() returned'
    h.env.remove('BUILD_URL')
    assert expectError { h.step('cvpReport', reportArgs(ev, [result: 'passed'])) }.contains('runUrl: not given, and env.BUILD_URL is not set')
    assert h.sent.isEmpty()
}

test('cvpReport needs each reported image to have id, nvr, component, issuer and says which has not') {
    Map body = queued()
    body.artifact.images[1].remove('nvr')
    body.artifact.images[2].id = 'abc'
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: json(body)])
    String message = expectError { h.step('cvpReport', reportArgs(ev, [result: 'passed'])) }
    assert message.contains("image 'ansible-tower-memcached': missing nvr")
    assert message.contains("image 'ansible-tower-messaging': id 'abc' is not a Brew build id")
    message = expectError { h.step('cvpReport', reportArgs(ev, [result: 'passed', per: 'artifact'])) }
    assert message.contains("image 'ansible-tower-memcached': missing nvr")
    assert h.sent.isEmpty()
    // Per artifact, an image that was not rebuilt is not reported, so it need not be complete.
    body.artifact.images[1].full_name = ''
    body.artifact.images[2].id = '24871245'
    h.step('cvpReport', reportArgs(h.step('cvpEvent', [text: json(body)]), [result: 'passed', per: 'artifact']))
    assert h.sent.size() == 1
}

test('cvpReport per artifact leaves the images that were not rebuilt out of the group artifact') {
    Map body = queued()
    body.artifact.images[0].full_name = ''
    def h = harness()
    CvpEvent ev = h.step('cvpEvent', [text: json(body)])
    h.step('cvpReport', reportArgs(ev, [per: 'artifact', buildResult: 'FAILURE']))
    Map sent = contents(h)[0]
    assert sent.test.result == 'failed'
    assert sent.artifact.images*.name == ['ansible-tower-memcached', 'ansible-tower-messaging']
    assert sent.artifact.id == ev.artifactId && sent.artifact.errata_id == 47960
    assert ev.images.size() == 3: 'the event view is not changed'
    body.artifact.images.each { it.full_name = '' }
    ev = h.step('cvpEvent', [text: json(body)])
    assert expectError { h.step('cvpReport', reportArgs(ev, [per: 'artifact', result: 'passed'])) }.contains('per artifact: no image of the group was rebuilt')
    assert h.sent.size() == 1
}

// ------------------------------------------------------------------------------------ smaller steps

test('cvpKeyValues parses KEY=value lines in order, skipping blanks and comments; names a bad line') {
    def h = harness()
    assert h.step('cvpKeyValues', 'B=2\n\n# comment\nA = x=y \nEMPTY=') == [B: '2', A: 'x=y', EMPTY: '']
    assert h.step('cvpKeyValues', 'B=2\nA=3').keySet() as List == ['B', 'A']
    assert h.step('cvpKeyValues', [null] as Object[]) == [:]
    assert expectError { h.step('cvpKeyValues', 'A=1\noops', 'EXTRA_PARAMETERS') } == "cvpKeyValues: EXTRA_PARAMETERS: line 2: 'oops' is not KEY=value"
}

test('cvpSubscription: Consumer.rh-jenkins-ci-plugin.<uuid>.<topic>, uuid stable per job URL') {
    String topic = 'VirtualTopic.eng.ci.redhat-container-group.test.queued'
    def h = harness()
    String a = h.step('cvpSubscription', topic)
    assert a ==~ /Consumer\.rh-jenkins-ci-plugin\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.VirtualTopic\.eng\.ci\.redhat-container-group\.test\.queued/
    assert h.step('cvpSubscription', topic) == a
    h.env.JOB_URL = 'https://jenkins.example.com/job/other-listener/'
    assert h.step('cvpSubscription', topic) != a
    assert h.step('cvpSubscription', topic, '85dd57c6-9e86-11e9-8de4-c85b7686606c') == "Consumer.rh-jenkins-ci-plugin.85dd57c6-9e86-11e9-8de4-c85b7686606c.${topic}".toString()
    assert expectError { h.step('cvpSubscription', 'Consumer.x.y.' + topic) }.contains('must be a bare VirtualTopic name')
}

test('cvpGroupEvent builds a group test.queued from name=full_name lines; name= means not rebuilt') {
    def h = harness()
    Map body = h.step('cvpGroupEvent', [
        component: 'Ansible Tower', errataId: '47960', groupId: 'group-1', namespace: 'ansible-tower-35', category: 'integration', contact: contact,
        images: "ansible-tower=${TOWER}\n# comment\nansible-tower-memcached=${MEMCACHED} id=24871239 issuer=someone\nansible-tower-messaging=\n".toString()])
    assert body.artifact.type == 'redhat-container-group'
    assert body.artifact.id == 'group-1'
    assert body.artifact.errata_id == 47960L
    assert body.artifact.images*.name == ['ansible-tower', 'ansible-tower-memcached']
    assert body.artifact.images[0].nvr == 'ansible-tower-container-3.5.4-2'
    assert body.artifact.images[0].component == 'ansible-tower-container'
    assert body.artifact.images[0].issuer == 'freshmaker'
    assert body.artifact.images[0].id instanceof Long && body.artifact.images[0].id >= 10000000L
    assert body.artifact.images[1].id == 24871239L
    assert body.artifact.images[1].issuer == 'someone'
    assert body.test == [category: 'integration', namespace: 'ansible-tower-35', type: 'default']
    assert body.pipeline == [id: 'cvp-group-1', name: 'cvp/validator', build: '7']
    assert body.version == '1.1.0' && body.generated_at ==~ ISO
    assert h.echoes.any { it.contains('not rebuilt, left out: ansible-tower-messaging') }
    String message = expectError {
        h.step('cvpGroupEvent', [component: '', errataId: 'x', namespace: 'ns', contact: contact,
                                 images: 'a=registry.example.com/a/a:latest\nb=registry.example.com/b/b:1-2 colour=red\nnonsense'])
    }
    assert message.contains('component: missing')
    assert message.contains("errataId: 'x' is not a positive whole number")
    assert message.contains("image line 1: cannot derive an NVR from 'registry.example.com/a/a:latest'")
    assert message.contains("image line 2: 'colour=red' is not one of id=, nvr=, component=, issuer=")
    assert message.contains("image line 3: 'nonsense' does not start with name=full_name")
    assert expectError { h.step('cvpGroupEvent', [component: 'C', errataId: 1, namespace: 'ns', contact: contact, images: 'a=']) }.contains('images: no rebuilt image')
}

// --------------------------------------------------------------------------------------------- pipelines

test('validator.Jenkinsfile: event -> integration job with image parameters -> one complete per image') {
    Map body = queued()
    body.artifact.images.remove(2)    // messaging not rebuilt: not in the event
    def h = harness()
    h.env.CI_MESSAGE = json(body)
    h.params.CVP_RUN_ID = 'run-7'
    h.onBuild = { Map a -> [result: 'UNSTABLE', absoluteUrl: 'https://jenkins.example.com/job/Pipelines/job/openshift-integration-pipeline/1234/', number: 1234] }
    h.runPipeline('pipelines/validator.Jenkinsfile')
    assert h.callsOf('library') == ['cvp']
    assert h.stages == ['Event', 'Parameters', 'Test', 'Report']
    List builds = h.callsOf('build')
    assert builds.size() == 1
    assert builds[0].job == 'Pipelines/openshift-integration-pipeline'
    assert builds[0].propagate == false
    Map parameters = builds[0].parameters.collectEntries { [(it.name): it.value] }
    assert builds[0].parameters*.$symbol.unique() == ['string']
    assert parameters == [TESTEXPR: 'yolo or ansible_integration', TOWER_CONTAINER_IMAGE: TOWER, MEMCACHED_CONTAINER_IMAGE: MEMCACHED, MESSAGING_CONTAINER_IMAGE: '', CVP_RUN_ID: 'run-7']
    assert h.sent*.topic == ['VirtualTopic.eng.ci.brew-build.test.complete'] * 2
    List bodies = contents(h)
    assert bodies*.test*.result == ['needs_inspection'] * 2
    assert bodies*.artifact*.nvr == ['ansible-tower-container-3.5.4-2', 'ansible-tower-memcached-container-1.5.16-4']
    assert bodies[0].run.url == 'https://jenkins.example.com/job/Pipelines/job/openshift-integration-pipeline/1234/'
    assert bodies[0].run.log == 'https://jenkins.example.com/job/Pipelines/job/openshift-integration-pipeline/1234/console'
    assert bodies[0].test.category == 'integration' && bodies[0].test.namespace == 'ansible-tower-35'
    assert h.sent.every { it.properties == 'CVP_RUN_ID=run-7' }
    assert h.currentBuild.result == 'UNSTABLE'
    assert h.echoes.contains('MESSAGING_CONTAINER_IMAGE = (empty: not rebuilt)')
}

test('validator.Jenkinsfile: when the integration job cannot run, a test.error per image, and the build fails') {
    def h = harness()
    h.env.CI_MESSAGE = queuedText
    h.params.INTEGRATION_JOB = 'Pipelines/missing-job'
    h.onBuild = { Map a -> throw new IllegalArgumentException('No item named Pipelines/missing-job found') }
    try {
        h.runPipeline('pipelines/validator.Jenkinsfile')
        assert false: 'the validator should fail'
    } catch (IllegalArgumentException e) {
        assert e.message.contains('missing-job')
    }
    assert h.sent*.topic == ['VirtualTopic.eng.ci.brew-build.test.error'] * 3
    assert contents(h)[0].error.reason == 'could not run Pipelines/missing-job: No item named Pipelines/missing-job found'
}

test('validator.Jenkinsfile: a wrong event stops it before the integration job, and nothing is sent') {
    def h = harness()
    h.env.CI_MESSAGE = brewText
    assert expectError { h.runPipeline('pipelines/validator.Jenkinsfile') }.contains("artifact.type is 'brew-build'")
    assert h.callsOf('build').isEmpty()
    assert h.sent.isEmpty()
}

test('trigger.Jenkinsfile sends a simulated group test.queued on its topic; DRY_RUN sends nothing; under both plugin majors') {
    for (String major : ['1', '2']) {
        def h = harness(major)
        h.env.JOB_NAME = 'cvp/trigger'
        h.params.ERRATA_ID = '50001'
        h.params.JMS_PLUGIN = major
        h.params.IMAGES = "ansible-tower=${TOWER}\nansible-tower-memcached=\nansible-tower-messaging=${MESSAGING} id=24871245".toString()
        h.runPipeline('pipelines/trigger.Jenkinsfile')
        assert h.sent.size() == 1
        assert h.sent[0].api == 'v' + major
        assert h.sent[0].topic == 'VirtualTopic.eng.ci.redhat-container-group.test.queued'
        assert h.sent[0].providerName == 'Red Hat UMB'
        assert h.sent[0].properties == 'CVP_SIMULATED=true'
        Map body = contents(h)[0]
        assert body.cvp_simulated == true
        assert body.artifact.component == 'Ansible Tower'
        assert body.artifact.errata_id == 50001
        assert body.artifact.images*.name == ['ansible-tower', 'ansible-tower-messaging']
        assert body.artifact.images[1].id == 24871245
        assert body.artifact.id ==~ /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
        assert body.pipeline.name == 'cvp/trigger'
        assert h.currentBuild.description.toString().startsWith('sent: Ansible Tower errata 50001')
        assert h.callsOf('waitForCIMessage').isEmpty(): 'WAIT_MINUTES 0: no wait'
        // What it sent is what the validator reads; its results carry the mark.
        def v = harness(major)
        v.env.CI_MESSAGE = h.sent[0].content
        v.params.JMS_PLUGIN = major
        v.runPipeline('pipelines/validator.Jenkinsfile')
        assert v.callsOf('build')[0].parameters.find { it.name == 'MEMCACHED_CONTAINER_IMAGE' }.value == ''
        assert v.callsOf('build')[0].parameters.find { it.name == 'TOWER_CONTAINER_IMAGE' }.value == TOWER
        assert v.sent.size() == 2
        assert contents(v)*.cvp_simulated == [true, true]
        assert v.sent*.properties == ['CVP_SIMULATED=true'] * 2
    }

    def dry = harness()
    dry.params.DRY_RUN = true
    dry.runPipeline('pipelines/trigger.Jenkinsfile')
    assert dry.sent.isEmpty()
    assert dry.echoes.any { it.startsWith('DRY_RUN: not sent') }
}

test('trigger.Jenkinsfile WAIT_MINUTES: waits with waitForCIMessage for the simulated result of the first image, under both majors') {
    for (String major : ['1', '2']) {
        def h = harness(major)
        h.params.JMS_PLUGIN = major
        h.params.WAIT_MINUTES = '30'
        h.onWait = { Map a -> JsonOutput.toJson([test: [result: 'passed'], cvp_simulated: true]) }
        h.runPipeline('pipelines/trigger.Jenkinsfile')
        Map wait = h.callsOf('waitForCIMessage')[0]
        Map data = wait    // 1.x: the step's named arguments; 2.x: the activeMQSubscriber(...) passed to it
        assert (major == '1' ? data.providerName : data.name) == 'Red Hat UMB (queues)'
        assert data.timeout == 30
        assert data.overrides.topic ==~ /Consumer\.rh-jenkins-ci-plugin\.[0-9a-f-]{36}\.VirtualTopic\.eng\.ci\.brew-build\.test\.complete/
        assert data.checks == [[field: '$.cvp_simulated', expectedValue: '^true$'], [field: '$.artifact.nvr', expectedValue: '^\\Qansible-tower-container-3.5.4-2\\E$']]
        assert h.currentBuild.description.toString().endsWith('result passed')
        def none = harness(major)
        none.params.JMS_PLUGIN = major
        none.params.WAIT_MINUTES = '1'
        assert expectError { none.runPipeline('pipelines/trigger.Jenkinsfile') }.contains('no brew-build.test.complete for ansible-tower-container-3.5.4-2 within 1 minutes')
    }
}

test('validator.Jenkinsfile tells an abort from a failure: aborted while the job runs, test.error saying so and ABORTED') {
    def h = harness()
    h.env.CI_MESSAGE = queuedText
    h.onBuild = { Map a -> throw new org.jenkinsci.plugins.workflow.steps.FlowInterruptedException('aborted by tester') }
    try {
        h.runPipeline('pipelines/validator.Jenkinsfile')
        assert false: 'the abort should end the validator'
    } catch (InterruptedException e) {
        assert e.message == 'aborted by tester'
    }
    assert h.currentBuild.result == 'ABORTED'
    assert h.sent*.topic == ['VirtualTopic.eng.ci.brew-build.test.error'] * 3
    assert contents(h)[0].error.reason == 'the validator was aborted while Pipelines/openshift-integration-pipeline ran'
    // The integration build itself aborted: no verdict, test.error, and the validator ends ABORTED too.
    def a = harness()
    a.env.CI_MESSAGE = queuedText
    a.onBuild = { Map x -> [result: 'ABORTED', absoluteUrl: 'https://jenkins.example.com/job/x/9/', number: 9] }
    a.runPipeline('pipelines/validator.Jenkinsfile')
    assert a.sent*.topic == ['VirtualTopic.eng.ci.brew-build.test.error'] * 3
    assert a.currentBuild.result == 'ABORTED'
    // A failing integration build is a verdict: test.complete failed, the validator FAILURE.
    def f = harness()
    f.env.CI_MESSAGE = queuedText
    f.onBuild = { Map x -> [result: 'FAILURE', absoluteUrl: 'https://jenkins.example.com/job/x/9/', number: 9] }
    f.runPipeline('pipelines/validator.Jenkinsfile')
    assert contents(f)*.test*.result == ['failed'] * 3
    assert f.currentBuild.result == 'FAILURE'
}

test('listener.Jenkinsfile: CI-event trigger on its own consumer queue with the checks as maps; starts the validator; both majors') {
    for (String major : ['1', '2']) {
        def h = harness(major)
        h.env.JOB_URL = 'https://jenkins.example.com/job/cvp/job/listener/'
        h.env.CI_MESSAGE = queuedText
        h.params.JMS_PLUGIN = major
        h.runPipeline('pipelines/listener.Jenkinsfile')
        Map triggers = h.callsOf('properties')[0].find { it.$symbol == 'pipelineTriggers' }
        Map trigger = triggers.args[0][0]
        assert trigger.$symbol == 'ciBuildTrigger'
        assert trigger.noSquash == true
        List providers = major == '1' ? trigger.providerList : trigger.providers
        assert providers.size() == 1
        Map subscriber = providers[0]
        assert subscriber.$symbol == 'activeMQSubscriber'
        assert subscriber.name == 'Red Hat UMB (queues)'
        assert subscriber.overrides.topic ==~ /Consumer\.rh-jenkins-ci-plugin\.[0-9a-f-]{36}\.VirtualTopic\.eng\.ci\.redhat-container-group\.test\.queued/
        assert subscriber.checks == [
            [field: '$.artifact.component', expectedValue: '^Ansible Tower$'],
            [field: '$.artifact.type', expectedValue: '^redhat-container-group$'],
            [field: '$.artifact.images[0].issuer', expectedValue: '^freshmaker$'],
        ]
        List builds = h.callsOf('build')
        assert builds.size() == 1
        assert builds[0].job == 'cvp/validator'
        assert builds[0].wait == false
        assert builds[0].parameters == [[$symbol: 'text', name: 'CI_MESSAGE', value: queuedText], [$symbol: 'string', name: 'JMS_PLUGIN', value: major]]
    }

    def idle = harness()
    idle.runPipeline('pipelines/listener.Jenkinsfile')
    assert idle.callsOf('build').isEmpty()
    assert idle.callsOf('properties').size() == 1: 'a run without a message still registers the trigger'
}

test('listener.Jenkinsfile keeps its queue: a given QUEUE_UUID is used; a derived one becomes the default, so a renamed job keeps it') {
    String mine = '85dd57c6-9e86-11e9-8de4-c85b7686606c'
    def given = harness()
    given.params.QUEUE_UUID = mine
    given.runPipeline('pipelines/listener.Jenkinsfile')
    Map trigger = given.callsOf('properties')[0].find { it.$symbol == 'pipelineTriggers' }.args[0][0]
    assert trigger.providers[0].overrides.topic == "Consumer.rh-jenkins-ci-plugin.${mine}.VirtualTopic.eng.ci.redhat-container-group.test.queued".toString()

    def first = harness()
    first.env.JOB_URL = 'https://jenkins.example.com/job/cvp/job/listener/'
    first.runPipeline('pipelines/listener.Jenkinsfile')
    Map declared = first.callsOf('properties')[0].find { it.$symbol == 'parameters' }.args[0].find { it.name == 'QUEUE_UUID' }
    String derived = declared.defaultValue
    assert derived ==~ /[0-9a-f-]{36}/
    // Renamed: another URL, but the job's parameter (its default) still holds the uuid.
    def renamed = harness()
    renamed.env.JOB_URL = 'https://jenkins.example.com/job/cvp/job/listener-renamed/'
    renamed.params.QUEUE_UUID = derived
    renamed.runPipeline('pipelines/listener.Jenkinsfile')
    Map again = renamed.callsOf('properties')[0].find { it.$symbol == 'pipelineTriggers' }.args[0][0]
    assert again.providers[0].overrides.topic.contains(derived)
}

test('the plugin binding is strict: each major refuses the other major\'s shapes, unknown parameters and msgCheck') {
    def one = harness('1')
    assert expectBindingError { one.step('cvpSendMessage', [topic: 't', body: [a: 1], jmsPlugin: '2']) }.contains('sendCIMessage: positional arguments')
    def two = harness('2')
    assert expectBindingError { two.step('cvpSendMessage', [topic: 't', body: [a: 1], jmsPlugin: '1']) }.contains("sendCIMessage: no parameter 'providerName'")
    assert expectBindingError { two.step('cvpCiTrigger', [jmsPlugin: '1', provider: 'p', queue: 'Consumer.x.y.VirtualTopic.t', checks: []]) }.contains("ciBuildTrigger: no parameter 'providerList'")
    assert expectBindingError { two.step('cvpWaitForMessage', [jmsPlugin: '1', provider: 'p', queue: 'Consumer.x.y.VirtualTopic.t']) }.contains("waitForCIMessage: no parameter 'providerName'")
    assert expectBindingError { ((Closure) two.binding.getVariable('activeMQSubscriber')).call([[name: 'p', useQueues: true]] as Object[]) }.contains("no parameter 'useQueues'")
    assert expectBindingError { ((Closure) one.binding.getVariable('activeMQSubscriber')).call([[name: 'p', useFiles: true]] as Object[]) }.contains("no parameter 'useFiles'")
    assert expectBindingError { ((Closure) two.binding.getVariable('activeMQSubscriber')).call([[name: 'p', checks: [[field: '$.a', expected: 'x']]]] as Object[]) }.contains("no parameter 'expected' in MsgCheck")
    def subscriber = ((Closure) two.binding.getVariable('activeMQSubscriber')).call([[name: 'p']] as Object[])
    assert expectBindingError { ((Closure) two.binding.getVariable('sendCIMessage')).call([subscriber] as Object[]) }.contains('sendCIMessage needs activeMQPublisher')
    try {
        two.binding.getVariable('msgCheck')
        assert false: 'msgCheck exists only in Job DSL'
    } catch (MissingPropertyException expected) {
        assert expected.property == 'msgCheck'
    }
    assert expectError { two.step('cvpCiTrigger', [provider: 'p', queue: 'Consumer.x.y.VirtualTopic.t', checks: [[field: '$.a', expected: 'x']]]) }.contains('checks[0]: expected [field: <JSONPath>, expectedValue: <regex>]')
}

// ------------------------------------------------------------------------------------------------ runner

List<Map> results = []
int written = 0
cases.each { Map c ->
    PipelineHarness.lastCreated.clear()
    String error = null
    try {
        c.body.call()
    } catch (Throwable t) {
        error = t.toString()
    }
    results << [name: c.name, ok: error == null, error: error]
    println((error == null ? 'ok   ' : 'FAIL ') + c.name + (error == null ? '' : '\n' + error.readLines().collect { '       ' + it }.join('\n')))
    // Every message a case sent, passing or not, goes to the schema check.
    PipelineHarness.lastCreated.each { PipelineHarness h ->
        h.allSent.each { Map m ->
            written++
            new File(messageDir, String.format('%03d.json', written)).text =
                JsonOutput.toJson([case: c.name, topic: m.topic, properties: m.properties, content: m.content])
        }
    }
}
new File(outDir, 'report.json').text = JsonOutput.toJson([cases: results, messages: written, pluginCalls: PipelineHarness.pluginCallsSeen as List])
int failed = results.count { !it.ok }
println "${results.size() - failed} passed, ${failed} failed, ${written} messages written"
System.exit(failed == 0 ? 0 : 1)
