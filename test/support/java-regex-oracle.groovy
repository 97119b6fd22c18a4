/*
 * java.util.regex itself, as the oracle of the check tests: reads {patterns: [...], texts: [...]}
 * (JSON, file given as the argument) and prints, per pattern, whether Java compiles it and, per text,
 * Matcher.find() (what the JMS Messaging plugin's checks do) and Matcher.matches().
 */
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import java.util.regex.Pattern
import java.util.regex.PatternSyntaxException

Map input = (Map) new JsonSlurper().parse(new File(args[0]), 'UTF-8')
List out = []
for (Object p : (List) input.patterns) {
    Pattern pattern
    try {
        pattern = Pattern.compile((String) p)
    } catch (PatternSyntaxException e) {
        out << [compiles: false]
        continue
    }
    List find = []
    List matches = []
    for (Object t : (List) input.texts) {
        find << pattern.matcher((String) t).find()
        matches << pattern.matcher((String) t).matches()
    }
    out << [compiles: true, find: find, matches: matches]
}
List doubles = []
for (Object d : (List) input.doubles) {
    doubles << Double.toString(Double.parseDouble((String) d))
}
List decimals = []
for (Object d : (List) input.decimals) {
    decimals << new BigDecimal((String) d).toString()
}
Map map = new LinkedHashMap()
map.put('b', 1)
map.put('1', 'x')
map.put('n', null)
map.put('m', [c: 2.5d])
print JsonOutput.toJson([patterns: out, doubles: doubles, decimals: decimals, map: String.valueOf(map)])
