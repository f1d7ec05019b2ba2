"""Agreement, false positives and speed of `r1jax.rewards.math` against math-verify, on cases from other projects.

    pip install "math-verify[antlr4_13_2]"      # benchmark-only dependency (pip install -e ".[bench]")
    python -m benchmarks.rewards                  # [--batch 512] [--skip-slow] [--skip-held-out] [--backends]
                                                  # [--show-held-out-misses]

Case files (benchmarks/data/), each line one JSON case {"gold", "prediction", "expected", ...}:

  math_heldout42_cases.jsonl    67 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout42", the latest file: bare answers, percents, scientific notation, replies
                                with an answer marker and expression identities from an LLM reasoning checker and a
                                game's typed-answer check, projects never used for cases before: 62 from
                                CoderDayton/verifiable-thinking-mcp's bun tests (at 94fdcc9): of its answer matching
                                (test/extraction.test.ts, answersMatch(extracted, expected)): 45 for 45 degrees, 75%, 75
                                percent and 25pct for 0.75 and 0.25, 0.75 for 75%, 1,000% for 10, 1.5e6, 3×10^8, 3X10^8
                                and 1×10⁻² against the expanded numbers and back, 2/3 for 4/6; of its answer extraction
                                (the same file, extractAnswer(reply), the reply as the prediction and the value it
                                states as the gold): \\boxed{42} after prose, Final Answer: 45, **Final Answer**: 99, So
                                the answer is 45 degrees, Computation Result: 256, Answer: 50%; and of its algebraic
                                equivalence by random evaluation (test/lib.test.ts and test/math.test.ts,
                                compareExpressions(a, b), a as the prediction): x + x for 2 * x, commuted, associated
                                and distributed sums and products, x² for x * x, a × b and a ÷ b, (a + b) * (a - b) for
                                a² - b²; 5 from RupertLinacre/brain_bombing's vitest tests of its game's typed-answer
                                check (tests/typed-answers.test.ts at 845b732, answersMatch(typed, correct)): " 7.0 "
                                for 7, 1½ for 1.5, 12 CM for 12cm; each with its source. Built and committed before any
                                grader change it measures. 12 of its answers are wrong (18%): a number contained in
                                another (1/2 for 1, 12 and 21 for 1, 123 for 12), x * 2 for x, x + y for x - y, x - y
                                for y - x, x / y for y / x, malformed input (+++ for x, 2 + for 2), 1/0 for 0, 12m for
                                12cm. The 72 rows left out (pairs already in an earlier case file or repeated, number
                                words such as two-thirds, values the source extracts by a fallback with no answer
                                marker, word answers, identical strings, roundings equal only under the source's
                                tolerance, a phrase as the gold, a malformed gold, a blank answer, a format rule) are in
                                math_heldout42_left_out.jsonl with the reason for each. Held out for one run at 94.0%
                                (63/67, 0 false positives, 4 false negatives; math-verify 74.6%, 2 false positives),
                                then its misses were listed: they led to two rules (x or X between a number and a power
                                of ten is a times sign, 3x10^8; pct glued to its number is the percent word, 25pct), now
                                66/67 with no false positive; 1½ for 1.5, a vulgar fraction glued to a digit, stays
                                refused (see docs/math_grading.md).
  math_heldout41_cases.jsonl    88 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout41": bare answers, typed notation, mixed numbers, ratios
                                and malformed input from nine learning tools' answer checkers, projects never used for
                                cases before: 18 from MobileJP/maths-whiteboard's vitest tests of its typed-answer
                                checker (src/lib/answerCheck.test.ts at 6d7456a, checkLocally(question, input) with the
                                question's canonical answer as the gold): ½, 1/2. and 0.50 for 1/2, an en dash for a
                                minus sign, unsimplified fractions (10/12 for 5/6), 1 1/24 for 25/24, 15cm for 15 cm,
                                4:6 for 2:3, 2(x+2) for 2x+4; 18 from Bredson/matematyka-e8's vitest tests of its answer
                                checker (src/lib/answers.test.ts at 0e9afb1, checkAnswer(input, authorAnswer)): decimal
                                commas and signs (−0,5 for -1/2, 5,00 and +05.0 for 5, -1/-2 for 1/2), 8/12 for 2/3; 14
                                from aleshp/mathLab's vitest tests of its answer checker (src/lib/mathUtils.test.ts at
                                f2d022d, checkAnswer(userAnswer, correctAnswer)): 8√3 for 8\sqrt{3}, ±5 for the list 5;
                                -5, lists in another order, sin(30°) for 0.5, π for 3.14159; 12 from
                                chariacthus/matematik-edu's vitest tests of its Danish learning app's answer checker
                                (src/lib/answer.test.ts at 0f433f3, checkAnswer(spec, response)): typed minus signs,
                                units after a value (24 cm², 90 min), 1 3/4 for 7/4, y = 2x + 3 for 2x+3; 9 from
                                SnowballSH/math-bot's pytest tests of its answer check (tests/test_answer_check.py at
                                7d858eb, check_answer(user_ans, parse_latex('5'))): 2+3 and $\boxed{5}$ for 5; 8 from
                                juliterarysociety/Maths-App's vitest tests of its answer validator
                                (src/utils/mathValidation.test.ts at 9f3213f, validateAnswer(input, expected)):
                                sqrt(3)/2 and 0.866 both ways, 5m for 5 m, 30° for 30 deg; 4 from notbowen/sat-grinder
                                (src/lib/grading.test.ts at 4294b66, gradeAnswer): -4/6 for -2/3, 0.33 for .33; 4 from
                                itaytoren7/5-units (src/lib/answerCheck.test.ts at 8f321e8, checkAnswer(input, value)):
                                √61 for \sqrt{61}; 1 from tanejaansh007/aime-trainer (src/lib/checkAnswer.test.ts at
                                e91154f): " 1,000 " for 1000; each with its source. Built and committed before any
                                grader change it measures. 28 of its answers are wrong (32%): Python injection strings
                                and \cos(9^{9^{9}}) for 5, malformed input for 5 (1/0, 0/0, 1 2, 1,2,3, Infinity, 1e3,
                                <script>, a hundred nines), rounded decimals (0.666667 for 2/3, 0.500000001 for 1/2),
                                5:3 for 3:5, 2x+5 for 2x+4, 0.125 for 125, 1 3/4 for 13/4, 3/0 for 3, 1490 for 1503. The
                                96 rows left out (pairs already in an earlier case file or repeated, identical strings,
                                multiple-choice letters, blank answers, verdicts set by a per-question tolerance, option
                                or list of accepted answers, rounded values accepted at a question's precision, words,
                                Danish thousands separators, near misses the source neither accepts nor rejects, format
                                rules, case-folding, a malformed gold) are in math_heldout41_left_out.jsonl with the
                                reason for each. Held out for one run at 90.9% (80/88, 1 false positive, 7 false
                                negatives; math-verify 73.9%, 2 false positives), then its misses were listed: they led
                                to three rules (a vulgar fraction character is its fraction, ½; the plus-minus sign
                                typed in ASCII is \pm, +-5 and +/-; the word sqrt before a number covers it, 8sqrt3),
                                now 83/88 with one false positive, 0.666667 for 2/3, a rounding the source refuses and
                                the decimal policy accepts; 1000 for 1000.0000001, sqrt(3)/2 and 0.866 for each other
                                and 8 m³ for 8 stay refused (see docs/math_grading.md).
  math_heldout40_cases.jsonl    82 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout40": bare answers, antiderivatives, typed notation and
                                short LaTeX from four learning and evaluation tools' answer checkers, projects never
                                used for cases before: 37 from 2525Azarashi/ChemNote's vitest tests of
                                its study app's answer judge (tests/mathExpression.test.ts at 1702f7e,
                                isAnswerCorrect({correctAnswer}, user) and isMathematicallyEqual(a, b), and
                                tests/symbolPalettes.test.ts at 555935a): antiderivatives with the constant in lower
                                case or the factors reordered (x^5/5 + c for x^5/5 + C, x√x*2/3 + C for (2/3)x√x + C),
                                sqrt(x) for √x, sin(30) for sin30, typed notation against symbols (x² for x^2, x**2,
                                1÷3, fullwidth １／３, x<=3 for x≦3, x!=3 for x≠3); 26 from AlhasanIQ/consortium's Go
                                tests of its benchmark grader of model answers (pkg/bench/math_test.go at b8dddb3,
                                MathAnswersEquivalent(predicted, gold) and IsCorrectPrediction): short \frac forms
                                (\frac9{19}, \frac 34), text units after a value (864 \mbox{ inches}^2 for 864),
                                escaped dollars and spaced thousands (\$32,348, 11,\! 111,\! 111,\! 100), lists in
                                another order, a \pm against both roots, bold final-answer lines; 11 from
                                Zaarnno-Dev-Hub-dot/math-falling-equations-v2's vitest tests of its answer validator
                                (tests/unit/validator.test.ts at a9c3170, AnswerValidator.validate(input, expected)):
                                leading zeros, improper fractions against mixed numbers and decimals (12/8 for 1 1/2);
                                8 from Tolux-dotcom/tolux-ai-math-coach's node tests of its answer evaluator
                                (test/math-answer-evaluator.test.mjs at 64c8570, expressionsEquivalent,
                                equationsEquivalent and mathAnswersEquivalent(student, expected)): 2(x + 4) + x + 4 for
                                3x + 12, an equation whose solution is the gold (2x + 4 = 10 for x = 3); each with its
                                source. Built and committed before any grader change it measures. 21 of its answers
                                are wrong (26%): the constant of integration left out (x^5/5 for x^5/5 + C), 23 for
                                2^3, 3x + 2 for 2x + 3, 2/x for x/2, sin(2x) for sinx*2, 3C5 for 5C3, 40 L for 40 mL,
                                x≧3 for x≦3, 3/14 for \frac{14}{3}, abc for 5, 3x + 4 for 3x + 12 and 2x + 4 = 10 for
                                x = 4. The 91 rows left out (pairs already in an earlier case file or repeated,
                                identical strings, chemical formulas and equations, English words and units with their
                                letters reordered, expanded forms the source keeps apart from factored ones on
                                purpose, case-folding, verdicts set by a parse-failure flag, words and phrases, readings
                                the source refuses to choose, a pair in another order accepted by the source's rule
                                for every list, identities and contradictions compared with each other, blank answers
                                and golds) are in math_heldout40_left_out.jsonl with the reason for each.
                                Held out for one run at 84.1% (69/82, 1 false positive, 12 false negatives;
                                math-verify 70.7%, 2 false positives), then its misses were listed: they led to three
                                rules (the radical sign before a lone letter covers it, 2√x + C; the plus-minus
                                character is \pm, 5 ± x; nCr and nPr between whole numbers, 5C3, no longer the product
                                that let 3C5 answer it), now 76/82 with no false positive; a constant of integration
                                in the other case (x^5/5 + c for x^5/5 + C), (1, -2) for 1,-2, 1, 000 for 1000 and
                                sin(θ) for sinθ stay refused (see docs/math_grading.md).
  math_heldout39_cases.jsonl    146 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout39": bare answers, factored forms and
                                equations from two learning tools' answer checkers, projects never used for cases
                                before: 137 from pgill18/math-study's test of the answer matcher of its algebra-chapter
                                practice pages (src/tests/answerMatching.test.cjs at 1bb7032, answersMatch(userAnswer,
                                correctAnswer, '')): bare values and x= prefixes against a $-wrapped solution (0 and
                                x=0 for $x = 0$, -1/2 for $x = -\frac{1}{2}$), factors in another order ((x+8)(x+2) for
                                $(x + 2)(x + 8)$, -(y+1)(2y+3)), typed notation against LaTeX (1/2 for $\frac{1}{2}$,
                                (m-1)^2, 16x^2 - 8xy + y^2), a factorization carried further than the gold
                                ((x-2)(x+2)(x-1)(x+1) for $(x^2 - 1)(x^2 - 4)$) and lists of points in another order;
                                9 from openstax/k12-apps-raise's vitest tests of the Khan algebra library it grades
                                inputs with (src/tests/kas.test.ts at 7160e8f, compare(parse(expr1).expr,
                                parse(expr2).expr) with no options or simplify and form off): equivalent lines
                                (y=0.5x+2 for 2y-x=4), inequalities read from the other side (x>4 for 4<x), |-4| for
                                |4|, \sqrt[3]{27} for 3; each with its source. Built and committed before any grader
                                change it measures. 8 of its answers are wrong (5%): a wrong factor or sign
                                ((x+3)(x+8) for $(x + 2)(x + 8)$, 3x(x+2)(x+2) for $3x(x + 2)(x - 2)$), a constant off
                                by one (x^2 + 10x + 15 for $x^2 + 10x + 16$), 5 for $x = 0$ and y=0.5x+2 for
                                y=\frac{x}{2}+3. The 65 rows left out (multi-box checks graded as a whole, comparisons
                                with simplify or form on, replies graded against the problem text, repeats, identical
                                strings, classification words, strings serialized at run time, a pair already in an
                                earlier case file) are in math_heldout39_left_out.jsonl with the reason for each.
                                Held out for one run at 99.3% (145/146, 0 false positives, 1 false negative;
                                math-verify 99.3%, 0 false positives), then its misses were listed: the one is x\le4
                                for 4\gex, a gold whose \gex is no LaTeX command (the source's parser reads \ge x);
                                no rule (see docs/math_grading.md).
  math_heldout38_cases.jsonl    86 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout38": replies shaped like model output from one project
                                never used for cases before: promptfoo/promptfoo's vitest tests
                                of its math-equivalent assertion, an LLM-evaluation tool's grader of model output
                                against an expected value (test/assertions/mathEquivalent.test.ts at 49a0215,
                                isMathEquivalent(actual, expected) and handleMathEquivalent(outputString,
                                renderedValue)): the answer after work or display math ($$2$$ Answer: 3 for 3, a
                                hidden <think> block, a display block followed by a line of prose), approximation and
                                equality chains (1/2 ≈ 0.5, a × b = 4 × 1 = 4, **V ≈ 5.09**), bold and labels, prose
                                with the answer at the end (The answer is 1 / 2, Therefore the result is 7!), Unicode
                                operators, minus signs and roots (2 × 3, 6 ÷ 2, −185√23 / 6), calculator notation
                                (24+6cos4, 2*3*4 for 24), values with units (10kg, 45deg, 1/2 m for 0.5) and a decimal
                                comma (2,00625); each with its source. Built and committed before any grader change it
                                measures. 14 of its answers are wrong (16%): an intermediate value in place of the
                                final one, near misses (-3 for -3/2, 49/106 for 23/53, an extra π factor, 5π/3 for
                                -π/3), 1,000 for 1, and replies without an answer for 42. The 32 rows left out (pairs
                                already in an earlier case file, identical strings, non-finite golds, a pair whose
                                test asserts no verdict, a word as the gold, a blank answer) are in
                                math_heldout38_left_out.jsonl with the reason for each.
                                Held out for one run at 80.2% (69/86, 0 false positives, 17 false negatives;
                                math-verify 77.9%, 0 false positives), then its misses were listed: 20√57 and
                                −185√23 / 6 led to a rule (the radical sign covers the whole number after it), now
                                71/86; units the gold does not name (5m, 45deg, 1/2 m), prose whose last value is an
                                unevaluated sum or product, a leading ≈ and trailing remarks stay refused (see
                                docs/math_grading.md).
  math_heldout37_cases.jsonl    62 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout37": bare answers, equations and short replies from three
                                tutors' answer checkers, projects never used for cases before: 15 from
                                sasorepo/MathPrac's Swift tests of its answer checker (MathPracTests/MathPracTests.swift
                                at d9f71ab, MathAnswerChecker.compare(user, correctAnswer:): negative denominators (3/-4
                                for -0.75), mixed numbers against decimals, scientific notation, 2×3 for 2*3), 14 from
                                Asdri02/TFG-Adriansolerrodriguez's tests of its maths and physics checker
                                (tests/test_answer_checker.py at 59ec57d, grade_numeric(student, expected, kind):
                                Spanish replies with the result at the end, x=-6/2 for x = -3, values with units, a
                                self-correction) and 33 from idnaedtech/idna-tutor-mvp's tests of a voice tutor's answer
                                checkers (tests/test_core.py and backup_v6/test_answer_checker.py, test_evaluator.py and
                                test_regression_live.py at 2636823, without alternates: English number words (minus one
                                third for -1/3, twelve for 12), prose and equation prefixes, 2 for 2/1); each with its
                                source. Built and committed before any grader change it measures. 28 of its answers are
                                wrong (45%), such as 0.4 for 0.5, 1//2 for 0.5, a reply that takes back the right value,
                                9.8 m/s for 9.8 m/s^2, 1/7 for -1/7, minus six for -1/2 and garbled speech for -1/7. The
                                100 rows left out (pairs already in an earlier case file or repeated, identical strings,
                                fractions spoken with by/over or mis-transcribed, Hindi number words, truth values in
                                words, partial verdicts, alternates lists and golds listing alternates, blank answers,
                                tolerances, case-folding) are in math_heldout37_left_out.jsonl with the reason for
                                each.
                                Held out for one run at 80.6% (50/62, 0 false positives, 12 false negatives;
                                math-verify 69.4%, 0 false positives), then its misses were listed: "minus 6" for -6
                                and "minus 1" for -1 led to a rule (a sign said in a word before a lone number), now
                                52/62; numbers in words and Spanish prose stay refused (see docs/math_grading.md).
  math_heldout36_cases.jsonl    119 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout36": bare answers and a little LaTeX from
                                three learning tools' answer checkers, projects never used for cases before: 84
                                from oscardef/TutorAssist's jest tests of its answer comparison
                                (src/__tests__/math-utils.test.ts at 1249c2c, compareMathAnswers(user, correct),
                                compareNumericAnswers and validateAnswer without per-case options: fractions,
                                decimals, mixed numbers and percents, scientific notation, negative exponents and
                                nested fractions, roots, powers and trig values left unevaluated (cbrt(27) for 3,
                                sin(pi) for 0), LaTeX operators and delimiters, Unicode operators and dashes, a
                                reordered list, a unit word), 19 from openshiksha/openshiksha's tests of its step
                                checker and legacy numeric answers (are_expressions_equivalent on expressions,
                                NumericAnswer.check_answer without a tolerance: distributed, collected and cancelled
                                expressions, trailing zeros, 25/4 for 6.25) and 16 from john-jacobsen/fisherapp's
                                testthat tests of its answer checker (compare_answers and check_answer: \\frac{3}{4}
                                answered by 6/8, .75 and (0.75), 6.75x^11 for 27x^{11}/4, 0/8 for 0); each with its
                                source. Built and committed before any grader change it measures. 40 of its answers
                                are wrong (34%), such as 0.5 for 0.502, 10000 for 10015, -0.5 for 0.5, 1/4 for 1/2,
                                x^2 for x + x, 11.99 for 12, 1/3 for \\frac{3}{4}, null and injection strings for 1.
                                The 218 rows left out (pairs already in an earlier case file or repeated, identical
                                strings, numbers accepted only within the TutorAssist checker's smart tolerance,
                                calls with a tolerance or alternates option, equation steps of a solver checker,
                                multiple-choice letters, blank and malformed inputs, case-folding) are in
                                math_heldout36_left_out.jsonl with the reason for each.
                                Held out for one run at 99.2% (118/119, 1 false positive, 0 false negatives;
                                math-verify 80.7%, 2 false positives), then its misses were listed: the one is
                                "1; DROP TABLE users;--" for 1, a number with trailing words, read as the number by
                                the policy that reads a one-number reply; no rule (see docs/math_grading.md).
  math_heldout35_cases.jsonl    55 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout35": bare answers of a learning app's answer
                                checker, a project never used for cases before: mfish324/mathclicks's vitest
                                tests of its answer validation (src/lib/answer-validation.test.ts,
                                validateAnswer(createProblem(answer, answer_type), studentAnswer), its hint
                                progression and isEquivalentAnswer(student, answer, type); types integer, decimal,
                                fraction, coordinate and expression): integers with spaces, decimals with trailing
                                zeros or within the checker's tolerance (3.1401 for 3.14), equivalent fractions,
                                mixed numbers against decimals and improper fractions (11/4 for 2 3/4), rounded
                                repeating decimals (0.67 for 2/3), coordinates without brackets, with spaces, in
                                decimals or within tolerance, reordered and collected polynomials (x + x + x + x + x
                                for 5x); each with its source. Built and committed before any grader change it
                                measures. 13 of its answers are wrong (24%), such as 3.15 for 3.14, 0.3 for 1/3, 1.5
                                for 11/2, (4, 3) for (3, 4), x^3 + 1 for x^2 + 1, 2x for x + y, -5 for 5. The 37
                                rows left out (pairs already in an earlier case file, truth values in words,
                                multiple-choice letters, calls with the checker's per-problem acceptable_answers
                                option) are in math_heldout35_left_out.jsonl with the reason for each.
                                Held out for one run at 85.5% (47/55, 0 false positives, 8 false negatives;
                                math-verify 74.5%, 0 false positives), then its misses were listed: numbers within
                                the checker's tolerance, which no rule reads (see docs/math_grading.md), so it stays
                                at 85.5%.
  math_heldout34_cases.jsonl    67 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout34": bare answers and a little LaTeX
                                from three learning tools' answer checkers, projects never used for cases before: 32
                                from polaris-smart/DeepTutor's short-answer grading tests
                                (tests/learning/test_grading_math_equivalence.py, grade_answer(user, expected,
                                "short"): fractions, decimals, percents and fullwidth digits, 5cm for 5, y=, f(x)= and
                                x= prefixes, inequalities against intervals and back, x∈(1,2), √ against sqrt), 17 from
                                SkyPhy/math-tutor's offline check of its answer matcher
                                (backend/test_reasoner_offline.py, _values_match(student, reference): arithmetic left
                                unevaluated, unordered roots and systems, unit words, 1 + 1 = 2 for 2) and 18 from
                                aziz-akera/latex-grading-demo's jest tests of its LaTeX grader
                                (__tests__/check-answers.test.ts, areExpressionsEquivalent without options: reordered,
                                expanded and factored polynomials, \\frac sums, \\sqrt{16} for 4, identities, logs);
                                each with its source. Built and committed before any grader change it measures. 12 of
                                its answers are wrong (18%), such as 1<x<2 for 1<x≤2, y=2x+1 for 2x+2, √2/2 for
                                √3/2, 2 for the roots 2, 3, 100, 200 for 100200, x=2 for the system x=2, y=3. The 71
                                rows left out (pairs already in an earlier case file, calls with a per-case option of
                                the checker such as isIntegral or allowMultipleSolutions, numbers, units and roots
                                written in Chinese words, truth values in words, text answers, multiple-choice
                                letters, empty golds) are in math_heldout34_left_out.jsonl with the reason for each.
                                Held out for one run at 91.0% (61/67, 0 false positives, 6 false negatives;
                                math-verify 79.1%, 0 false positives), then developed on: the rule its misses led to
                                (the asterisk operator U+2217 read as LaTeX's \\ast, with the \\nthroot macro of
                                heldout33's checker) brings it to 92.5% (see docs/math_grading.md).
  math_heldout33_cases.jsonl    189 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout33": LaTeX answers of school
                                algebra from a project never used for cases before: the table-data tests of
                                Knowre-Dev/locian-algorithm's answer checker (kr_json_preset.json, run by
                                preset_64_test.js: the answer and the input rewritten by its most permissive preset,
                                '모두가능', and compared): reordered, regrouped, expanded and factored expressions,
                                fractions, decimals and mixed forms, powers and roots (\\nthroot{5}{a^4}), absolute
                                values, \\pm answers, equations and inequalities scaled, moved across the sign or
                                reversed, Korean choice labels; each with its source. Built and committed before any
                                grader change it measures. 38 of its answers are wrong (20%), such as y=x+1 for
                                x=y+1, 1<x<0 for 0<x<1, 3\\le x<5 for 3\\le x\\le 5, (\\log_{4}{8})^{2} for 2, af for
                                AF, the malformed x+y+ for x+y. The 26 rows left out (identical strings, repeated
                                rows, a pair already in an earlier case file, a row whose \\frac lost its backslash,
                                four refusals of equal values that the checker does not rewrite, such as
                                \\log_{2}{32} for 5) are in math_heldout33_left_out.jsonl with the reason for each.
                                Held out for one run at 90.5% (171/189, 0 false positives, 18 false negatives;
                                math-verify 78.3%, 2 false positives), then developed on: the rule its misses led to
                                (chains whose middle is an expression, split into halves matched one to one) brings
                                it to 96.3% (see docs/math_grading.md).
  math_heldout32_cases.jsonl    30 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout32": bare answers, LaTeX and a
                                few phrased replies, from projects never used for cases before: 19 from
                                hkust-nlp/dart-math's evaluator tests (MathEvaluator.eq asserted in its eval notebook:
                                scientific notation, reordered sums and lists, dollar signs and thousands separators,
                                \\frac{\\pi}{2} for \\pi/2, a column vector for 1,2, false for no), 5 from
                                zayyanlatif11-svg/ADHDreminder's math answer-checking tests (phrased replies such as
                                "the answer is -7", 6/8 for 3/4), 6 from ucl-isd/moodle-qtype_algebra's grading tests
                                (responses graded against 7*x and 2*x); each with its source. Built and committed
                                before any grader change it measures. 16 of its answers are wrong (53%), such as 1001
                                for \\frac{2003}{2}, [0,1] for [0,3), x>3 for x<-1, 2/3 for 3/4, 5*x for 2*x. The 31
                                cases of those sources left out (identical strings, 7 pairs already in earlier case
                                files, verdicts neither right nor wrong, the option compare_sets, a percent reading,
                                Python numbers, the checker's unordered pair type) are in math_heldout32_left_out.jsonl
                                with the reason for each. Held out for one run at 90.0% (27/30, 0 false positives, 3
                                false negatives; math-verify 83.3%, 0 false positives), then its misses were listed:
                                no rule came of them (see docs/math_grading.md), so it stays at 90.0%.
  math_heldout31_cases.jsonl    78 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout31": bare checker inputs in
                                calculator notation, a few LaTeX and "Final answer:" answers, from projects never
                                used for cases before: 44 from PrairieLearn/PrairieLearn's symbolic-input conversion
                                tests (a submission and the sympy expression it must equal, the golds written from
                                the test's sympy objects; Unicode operators and brackets, implicit products, function
                                spellings, i * i * n for -n), 21 from lambda-feedback/compareExpressionsLLM's case
                                tables (identities, factorisations, equations scaled and moved), 7 from
                                lambda-feedback/IsSimilar's tests (numbers refused under a tolerance), 6 from
                                Lvtg/MoPRM's answer-checking tests (boxed and LaTeX answers, "Final answer: B");
                                each with its source. Built and committed before any grader change it measures. 17
                                of its answers are wrong (22%), such as x*y for x+y, log(x*y) for log(x) + log(y)
                                (the source's label), 1/(x-1) for 1/(1-x), x^^2 for x**2, 1.40 for 1.48,
                                f(1) + g(2) for g(1) + f(2). The 79 cases of those sources left out (identical
                                strings, calculus operator notation, true verdicts that need a tolerance, printed-form
                                tests, variable and complex-unit options, the platform's reading of 2e+3, 4 pairs
                                already in earlier case files, empty answers, a pair labelled both ways, a label its
                                source doubts, arithmetic on infinity, a number written as a word) are in
                                math_heldout31_left_out.jsonl with the reason for each. Held out for one run at 80.8%
                                (63/78, 0 false positives, 15 false negatives; math-verify 42.3%, 1 false positive),
                                then developed on: the rule its misses led to (max and min of a parenthesised list,
                                in plain and SymPy spellings) brings it to 85.9% (see docs/math_grading.md).
  math_heldout30_cases.jsonl    138 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout30": bare checker inputs of three learning
                                platforms (numbers, fractions and mixed numbers, multiples of pi,
                                expressions and inequalities in calculator notation, French school notation with
                                decimal commas and ':' for division), from projects never used for cases before: 64
                                from Khan/khan-exercises's answer-type tests (number, decimal, expression and prime
                                factorisation answer types; true verdicts under a form constraint kept), 60 from
                                Zahara-Nour/ubumaths-old's correction tests (values in forms a student writes; true
                                verdicts under options that only relax or add a form rule kept, the option named), 14
                                from StepicOrg/stepik-plugins's math quiz tests (identities, inequalities); each with
                                its source. Built and committed before any grader change it measures. 37 of its
                                answers are wrong (27%), such as 2pi for -2pi, -41.9999999 for -42,
                                0.3333333333333333 for 1/3, 6 for 3+4, 5 m for 2 cm + 3 cm, x > 0 for x >= 0. The 525
                                cases of those sources left out (answers split across several input boxes, form
                                verdicts, verdicts under form constraints on a right value, identical strings, pairs
                                repeated within the file, 7 pairs already in earlier case files, answers without a
                                verdict, the platform's own constants tau and pau, tolerance, domain and
                                simplification options, a unit rule, golds in a platform's brace grouping, syntax
                                hints, extraneous-bracket variants beyond eleven kept) are in
                                math_heldout30_left_out.jsonl with the reason for each. Held out for one run at 85.5%
                                (118/138, 0 false positives, 20 false negatives; math-verify 71.0%, 0 false
                                positives), then developed on: the rule its misses led to (digits grouped in threes
                                by spaces after the decimal point, as the SI writes them, are one number) brings it
                                to 87.7% (see docs/math_grading.md).
  math_heldout29_cases.jsonl    161 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout29": most of them bare checker inputs
                                (expressions, equations and factorisations in calculator notation and LaTeX), a
                                few completions (<think>/<answer> tags, several answer tags, "The answer is ...", a
                                give-up), from projects never used for cases before: 78 from oppia/oppia's algebraic,
                                numeric and math equation input rules (the IsEquivalentTo rule's verdicts), 53 from
                                ECAM-Brussels/e-cam's factorisation exercise tests (true verdicts under its
                                factored-form constraint, wrong factors), 13 from mitodl/mitx-grading-library's
                                FormulaGrader tests, 10 from OpenNTI/nti.assessment's math solution tests, 4 from
                                RobbenRibery/curious's GSM8K reward tests, 2 from jsboige/CoursIA pull request #15308,
                                1 from RLHFlow/Online-DPO-R1 issue #11; each with its source. Built and committed before
                                any grader change it measures. 50 of its answers are wrong (31%), such as
                                sqrt((3x-1)^(2)) for 9x^2-6x+1, x=3 for (2x+1)(x-3)=0, (x - 2)(x - 3) for x^2 - 4, a
                                last answer tag stating 400 for 200. The 45 cases of those sources left out (identical
                                strings, 5 pairs already in earlier case files, form and part rules, false verdicts
                                about form, tolerance and unit options, partial credit, behaviour the source calls
                                wrong, equations the checker solves at run time, format-only verdicts) are in
                                math_heldout29_left_out.jsonl with the reason for each. Held out for one run at 93.8%
                                (151/161, 0 false positives, 10 false negatives: six identities of powers whose
                                exponent holds a variable, whose evaluation runs out of time, and four percent
                                responses for a bare 75; math-verify 91.9%, 0 false positives), then developed on (no
                                rule came from it: see docs/math_grading.md).
  math_heldout28_cases.jsonl    48 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout28": most predictions written as a model
                                writes them (answer statements in prose, "The answer is ...", "Answer:" lines,
                                \\boxed{}, GSM8K "####" against GSM8K solutions as golds, Harmony final-channel
                                messages, custom <SOLUTION> tags, a give-up, a value corrected in prose, the last of
                                several numbers), a minority bare checker inputs (fractions, decimals, polynomial
                                identities), from projects never used for cases before: 16 from
                                Danau5tin/calculator_agent_rl's answer verifier tests, 12 from modal-projects/nmoe's RL
                                task tests (sympy equivalence, boxed extraction, Harmony messages), 4 from
                                KGrewal1/ScalingRL's reward tests, 4 from nerfstatus/nerfprobe-core's math scorer and
                                probe tests, 3 each from one-covenant/grail's GSM8K environment tests,
                                brianfitzgerald/minRL's GSM8K task tests, poof420/DXRL-Starter's GRPO reward script and
                                brightlikethelight/LORE's math grader tests; each with its source. Built and committed
                                before any grader change it measures. 13 of its answers are wrong (27%), such as
                                "First I calculated 43, but then I realized it was 42" for 43, a boxed 6 for 10 - 5,
                                "The answer is 42.0" for 42.1, a give-up. The 48 cases of those files left out (24
                                pairs already in earlier case files, identical strings, tolerance settings, a percent
                                option, a format-only verdict, extraction tests without a gold, golds made at run time,
                                one template repeated over further problems) are in math_heldout28_left_out.jsonl with
                                the reason for each. Held out for one run at 95.8% (46/48, 0 false positives, 2 false
                                negatives: two Harmony completions whose reasoning message came first; math-verify
                                75.0%, 0 false positives), then developed on.
  math_heldout27_cases.jsonl    48 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout27": most predictions written as a model
                                writes them (prose with a final statement, \\boxed{}, "The answer is ...", GSM8K
                                "####", a garbled run of boxes ending in an end-of-text token, worked solutions, a long
                                step-by-step solution and a cut-off one), from projects never used for cases before: 18
                                from tamassimonds/MathOlmoBenchmark's math scoring tests (answer statements with and
                                without a box, formatting variations, worked solutions, equivalence and normalisation
                                pairs), 16 from professor-moody/halo-forge's reasoning tests (its math verifier and
                                answer extractor), 5 from ljkkkkkkkkk/slime_RL's reward test, 4 from
                                johnolafenwa/RLFusion's tests, 3 from camel-ai/camel's math verifier tests, 2 from
                                open-compass/CompassVerifier's judged sample responses; each with its source. Built and
                                committed before any grader change it measures. 10 of its answers are wrong (21%), such
                                as a boxed 43 for 42, a give-up, a boxed 5 after a wrong step, a response cut off
                                mid-derivation. The 30 cases of those files left out (pairs already in this or earlier
                                files, identical strings, no verdict asserted, tolerance and rounding settings, a
                                boxed-only extraction mode, a false verdict about form, extraction tests without a
                                gold) are in math_heldout27_left_out.jsonl with the reason for each. Held out for one
                                run at 100% (48/48, 0 false positives, 0 false negatives; math-verify 97.9%, 0 false
                                positives), then developed on as well (it had no miss to list).
  math_heldout26_cases.jsonl    108 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout26": the answer-checking tests of two learning
                                platforms, a symbolic checker and a CAS equivalence checker, from projects
                                never used for cases before: 36 from Khan/perseus (its number validator's answer-type
                                tests, scoreNumericInput, the input-number widget's answer-type tests, scoreInputNumber
                                and scoreExpression: fractions in TeX and plain text against decimals, a long decimal
                                for 1/3, multiples of pi against their decimal value, thousands commas, a percent input
                                against its decimal, an extra percent sign, equations of function values reversed; a
                                true verdict under an option that only allows or constrains a form is kept, the option
                                named), 40 from openedx/edx-platform's capa formula, numerical and symbolic response
                                tests (scientific notation written 1.6*10^-4 against 1.6e-05, percent golds against
                                0.01 and 1.0%, a product against its value, overflowing formulas), 5 from
                                openedx/openedx-calc's symmath_check tests, 27 from tzhvh/Texo-web-stylus's equivalence
                                checker tests (identities, expansions, like terms, fraction rules); each with its
                                source. Built and committed before any grader change it measures. 49 of its answers
                                are wrong (45%), such as 0.9% for 0.9, 16,000 for 16, 76 pi for 77 pi, x*1e999 for x,
                                2x + 3y for 5xy. The 112 cases of those files left out (identical or empty strings,
                                pairs already in this or earlier files, invalid-input and error-code verdicts,
                                per-case tolerance and locale options, false verdicts about form, behaviour its source
                                calls incorrect, floating-point artefacts, hints and partial credit) are in
                                math_heldout26_left_out.jsonl with the reason for each. Held out for one run at 99.1%
                                (107/108, 0 false positives, 1 false negative; math-verify 91.7%, 3 false positives),
                                then developed on as well.
  math_heldout25_cases.jsonl    100 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout25": the equivalence tests of two
                                JavaScript/TypeScript checkers and one CAS and grading bug reports, from projects never
                                used for cases before: 42 from simvitt73/mathalea's fonctionComparaison tests
                                (arithmetic against its value, fractions against decimals and equal fractions, powers,
                                decimal commas and scientific notation, reordered and factored polynomials, intervals
                                in French bracket notation; a true verdict under an option that only adds a form
                                constraint is kept, the option named), 34 from cortex-js/compute-engine's equal,
                                identically-equal and stochastic-equal tests (equations and inequalities scaled,
                                expanded or reversed, identities, equations with different solution sets) and 5 from
                                its issue threads (#118, #135, #155), 17 from numbas/Numbas's part marking tests
                                (expressions, relations, matrices written as LaTeX matrices), symengine/symengine #179
                                and #2044; each with its source. Built and committed before any grader change it
                                measures. 24 of its answers are wrong (24%), such as 0.33333333333333 for 1/3,
                                2^{-30}-2^{-31} for 0, the opposite of a product, equations with other solution sets.
                                The 140 cases of those files left out (identical or empty strings, pairs already in
                                other files, undecided verdicts, per-case options such as precision, tolerance,
                                required forms and case sensitivity, unit and duration checks, text, commented-out
                                tests) are in math_heldout25_left_out.jsonl with the reason for each. Held out for one
                                run at 96.0% (96/100, 1 false positive, 3 false negatives; math-verify 87.0%, 2 false
                                positives), then developed on as well.
  math_heldout24_cases.jsonl    136 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout24": a JavaScript checker's test suite and grading bug
                                reports of projects never used for cases before: 120 from
                                artcompiler/L110's mathcore equivSymbolic tests (repeating decimals in \\overline,
                                \\dot and (81) notation against fractions, powers of i, \\pm radicals, absolute
                                values, cube roots, 5!, reordered and expanded polynomials, equations and inequalities
                                scaled or reversed, chained inequalities, ratios, \\binom against factorials; wrong
                                answers such as |x|-7 for |x-7|, a conjugate, (x-1)(x-1) for x^2-3x+2), 14 from issue
                                and pull-request threads (Doenet/math-expressions #4, #15, #54, Doenet/DoenetML #681,
                                sympy/sympy #8407, jiggzson/nerdamer #602, EleutherAI/lm-evaluation-harness #3214,
                                google-deepmind/proeval #19, THUDM/slime #2116, NVIDIA-NeMo/Skills #1074: x! read as
                                0, sums of exponentials that differ by a term, 1 < x against x > 1, $29.00 in prose,
                                #### -3, 016 for 16), timini/ensemble's numeric evaluator tests (2), each with its
                                source. Built and committed before any grader change it measures. 31 of its answers
                                are wrong (23%). The 814 cases of those files left out (identical or empty strings,
                                divisions by zero, statements about constants only, pairs already in other files,
                                per-case options of the checker, literal-form, unit and simplified-form checks, a
                                prediction edited by its reporter, one contested maintainer verdict) are in
                                math_heldout24_left_out.jsonl with the reason for each. Held out for one run at 85.3%
                                (116/136, 0 false positives, 20 false negatives; math-verify 61.0%, 0 false
                                positives), then developed on as well.
  math_heldout23_cases.jsonl    26 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout23": grading bug reports rather than test files (each
                                case names its thread's address and who asserted the verdict): 10
                                huggingface/Math-Verify issue threads (20 pairs: identities such as \\sec^2(y) against
                                \\tan^2(y)+1, a plane's equation negated, an equation solved for y, a matrix in
                                parentheses, \\text{13}; wrong answers such as 1/2006! for 1/2004!, a different list
                                or sequence, one of two required values, 4\\sqrt(2) for 4, a different line),
                                hiyouga/MathRuler #2 (\\pi \\div 8 + 1 \\div 2), QwenLM/Qwen2.5-Math #50 (1,-3 for
                                1,-2) and antirez/ds4 #319 (an answer line showing its arithmetic, 082). Built and
                                committed before any grader change it measures. 10 of its answers are wrong (38%). The
                                24 cases of those threads left out (pairs already in other files, golds rounded by
                                their reporter, a malformed gold string, reports that give no verdict) are in
                                math_heldout23_left_out.jsonl with the reason for each. Held out for one run at 88.5%
                                (23/26, 0 false positives, 3 false negatives; math-verify 69.2%, 6 false positives),
                                then developed on as well.
  math_heldout22_cases.jsonl    49 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout22": the math-grading tests of 6 projects never used
                                before: AISBench/benchmark's MATH, DAPO-Math, AGIEval, GSM100 and MGSM answer
                                parsers and evaluators (31 pairs: "The answer is therefore 42", a Chinese
                                marker, full-width brackets, \\fbox, \\boxed{x = 42}, $x = 42$, "Answer:" lines in any
                                case, "5 degrees", a unit in \\text, .5 for \\frac{1}{2}, "The answer is 123 and then
                                456.", "The answer is forty-two, but 42 is the number."), NVIDIA/TensorRT-LLM's AIME
                                helpers mirrored from lm-evaluation-harness (5: a box overriding a decoy in $...$,
                                k=42), Hero0p/mathverse's tutor normaliser (5: 0.50 for 1/2, -3/6 for -1/2),
                                Cargo-Cult-Research/mlx-rl's think-aware grading (4: an answer only inside the
                                reasoning, or before a closing </think> with nothing after it, must stay wrong),
                                nejohnson2/rlhf-playground and mmmmyyyxx/MARS (GSM8K markers, thousands commas), each
                                with its source. Built and committed before any grader change it measures. 9 of its
                                answers are wrong (18%). The 85 cases of those files left out (pairs already in other
                                files, identical strings, None inputs, text answers, a multiple-choice letter, number
                                words, the sources' deletion of every space or line break between digits, assertions
                                that only check containment or types, extraction checks with no gold,
                                normaliser-internal strings, per-case options, a mocked grader, a chat-template
                                premise, SymPy objects, reference-answer parsers) are in math_heldout22_left_out.jsonl
                                with the reason for each. Held out for one run at 93.9% (46/49, 0 false positives, 3
                                false negatives; math-verify 87.8%, 1 false positive), then developed on as well.
  math_heldout21_cases.jsonl    80 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout21": the math-grading tests of 11 projects
                                never used before: VadimNeuro-lab/Trope's exact-match verifier table (19 pairs:
                                boxed fractions, thousands commas, 007, \\dfrac{-1}{2}, \\! and \\; spacing in a box,
                                "The answer is 12 apples.", a later sentence with another number, "The answer is 3
                                more than 12." that must stay wrong, a revised box), EVIEHub/LLM-Rationality's GSM8K
                                verifier (16: #### markers with extra spaces, a boxed decimal with commas, a currency
                                prefix, a wrong sign and magnitude, a number word that must stay wrong),
                                coderdailyone/fusion-gateway's official MATH equivalence and scorer tests (12: \\tfrac,
                                \\sqrt3, 1+1, a unit label in a box, intervals, "x \\in [-2,7]" against a bare
                                interval labelled wrong), Lore-Hex/trustedrouter-benchmarks' MATH-500, GSM8K and AIME
                                scorers (11), mottopanikeiku/eval-power's GSM8K grader (7: "#### 4 or 5" wrong, a
                                corrected second marker), AbhiGuru25/Recursive-self-improvement-RSI,
                                AntoninaKOR/fp8_tis_quantization_noise, EZIOJP/cognitive-aware-learning-tutor (50% for
                                1/2, 2/4 for 1/2), karrtikiyer/pless-for-coding, jagriti216/Ai-Grading (V = R*I for
                                V = I*R, V = I + R wrong) and Uzbekswe/verifiable-reasoning-lab, each with its source.
                                Built and committed before any grader change it measures. 31 of its answers are wrong
                                (39%). The 91 cases of those files left out (pairs already in other files or twice in
                                this one, identical strings, None, empty and non-string inputs, multiple-choice letters,
                                text answers, the sources' numeric tolerances, a percent sign stripped without
                                rescaling, box-only and #### -only format rules, a string-equality rule on 72.0, a
                                declared no-fractions limitation, golds written as reference solutions, markers or
                                boxes, a NaN gold) are in math_heldout21_left_out.jsonl with the reason for each. Held
                                out for one run at 96.2% (77/80, 3 false positives; math-verify 95.0%, 2), then
                                developed on as well.
  math_heldout20_cases.jsonl    183 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout20": the math-grading tests of 28 projects
                                never used before: vimeto/pocket-agent-cli's GSM8K extraction and
                                evaluation tests (27 pairs: #### markers with and without a space, "The answer is:" and
                                "x =" lines, dollars and thousands commas, a #### marker after a disagreeing answer
                                statement, near misses that must stay wrong), khalilouardini/evolution_beats_rl's
                                verifier tests (17: <answer> tags in any case and with prose, a #### marker after
                                hedged values, a zero gold), anpaure/rl-no-backward's exact numeric verifier (16:
                                unicode minus, leading zeros and signs, \\frac{-3}{6}, a negative mixed number, 1e3,
                                a reference solution as gold with 0.51 and 2 that must stay wrong), genlm/genlm-eval,
                                DogukanUrker/BenchKit (a corrected #### marker, a wrong final #### after the right
                                intermediate value, numbers inside <think>, an unclosed <think>),
                                ManasVardhan/rl-amenability, cs2hvh/ai-llm, 000IG000/NLP-course-project, praxagent/prax,
                                xchang1121/inference_scaling, qazcdesnu/LSRR, bancheng2345/rotating_lora_research,
                                RyK57/rl-envs, and270/selective-sycophancy-steering (lm-eval's GSM8K filters),
                                parvpatodia/kd-lab, adbcodes/local_llm_workload_benchmark (rupee sign, Indian digit
                                grouping), SaminYeaserKhan/gemma4-finetune, adamoosya/compute-aligned-training,
                                MaxGhenis/talkie-evals, Nas01010101/majalis (a JSON answer tail),
                                juandatan/value-guided-kv-cache, rudolecky/mcts-state-merging, qlaxyy/ASC_summer (a bold
                                total, escaped dollars, a box with text around the number), Aarnav-SD/major_project,
                                ZackLiang/BadcaseFlow, eschnei/autoFusion, chjesu/math-error-notebook-web and
                                Axym-Labs/pptrain, each with its source. Built and committed before any grader change
                                it measures. 36 of its answers are wrong (20%). The 102 cases of those files left out
                                (pairs already in other files or twice in this one, identical strings, empty
                                predictions, None and non-string inputs, the sources' numeric tolerances, declared-unit
                                options, a percent sign stripped without rescaling, box-only, #### -only and strict
                                whole-answer format rules, first-answer and box-priority rules against the last-answer
                                convention, a last-number rule on a hedge, a structural step rule, a checker's
                                "unsupported" status, a truncation flag the pair does not carry, reference-answer parser
                                checks, extraction-only checks with no gold) are in math_heldout20_left_out.jsonl with
                                the reason for each. Held out for one run at
                                93.4% (171/183, 0 false positives; math-verify 92.3%, 1), then developed on as well.
  math_heldout19_cases.jsonl    196 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout19": the math-grading tests of 27 projects
                                never used before: leukocy/llm-test's answer-parser tests (31 pairs: boxes
                                in $...$, #### markers with commas and dollars, Chinese markers, last-number
                                fallbacks, unicode minus, scientific notation, a negated value that must stay wrong),
                                a-canary/Conjecture's extraction tests (19: Result: and x = markers, a very long
                                answer line, an answer in quotes, an earlier answer corrected by a later one),
                                sarvadnya2030/Rsearch_Experiments_SLM (normalisation, "Wait, actually"),
                                AnushreeM2701/LLM_Project (mixed numbers, factored polynomials, escaped percent,
                                x^2 + 1 against x^2 - 1), lukifer23/LeanQwen (adversarial policy scoring: a box
                                labelled as an example, a box followed by "I will reconsider", a hedge, a mid-solution
                                value, two FINAL: lines, all wrong), srujunakrishnapriya4-dot/nemotron_solver_sprint
                                (several boxes refused), ctrl-gaurav/Debate-Train-Evolve,
                                anuragprat1k/aimo3-recipe, stvngo/Pivotal-Token-Representation-Learning,
                                LL333111/rlvr-posttraining, matt-seb-ho/mem2, saitejasrivilli/verifiable-alignment,
                                WumbleCat/joel-nvk, Darrow8/ttt-binary, edward-lcl/AJAR (answers after </think>),
                                jimmyjdejesus-cmyk/allele-ai, Taardisaa/learning-when-to-think, UmutKorkmaz/orkhon,
                                Trump0412/EurekaSI (<answer> tags, a JSON answer), Psv-V/math-verl-grpo,
                                wyifei26/lowrank_spectral_es, DavidBellamy/grpo-gsm8k, haolpku/Synthetic-Math-RLVR,
                                AnishMachamasi/CAPR-Chain-of-Thought-Augmented-Prompt-Refinement,
                                yc-thirteen/quant-solver, jpei33/lm-reflection-credit and Hohyeon-28/qwentest, each
                                with its source. Built and committed before any grader change it measures. 30 of its
                                answers are wrong (15%). The 166 cases of those files left out (pairs already in other
                                files or twice in this one, identical strings, None and empty inputs, multiple-choice
                                letters, text answers, the sources' numeric tolerances and include_percentage option,
                                a percent sign stripped without rescaling, box-only, #### -only and integer-only
                                format rules, leading-zero and integer-part options, a rule that cuts the completion
                                at an invented follow-up question, verdicts that depend on a truncation flag the pair
                                does not carry, reference-answer parser checks, extraction-only checks with no gold)
                                are in math_heldout19_left_out.jsonl with the reason for each. Held out for one run at
                                95.4% (187/196, 5 false positives; math-verify 92.3%, 5), then developed on as well.
  math_heldout18_cases.jsonl    164 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout18": the math-grading tests of 18 projects
                                never used before: mianwu01/tts-sft's answer-extraction and LaTeX-aware
                                matching tests (20 pairs: the last of several boxes, a box that overrides an earlier
                                Final answer:, thousands commas, outer braces and dollars, \\left( \\right) tuples
                                against plain ones and tuples with one value changed that must stay wrong),
                                ModelCloud/Evalution's scorer and benchmark tests (19: GSM8K, GSM8K-Platinum,
                                GSM-Plus, AIME, MATH and IMO-AnswerBench completions, the last inline math span, an
                                unboxed Final answer: against a $...$. gold), FedExodus/selective-resistance's
                                normalisation and extraction tests (19: FINAL ANSWER: lines, a corrected answer after
                                "Actually no.", units and percent), axiaoquan/cot-lab (<answer> tags over boxes, a
                                Chinese marker), hxm2023/GRPO-Guard (GSM8K frozen samples, last-number verdicts and
                                near-miss decimals that must stay wrong), HkHk2Prod/MiniChatBot, AravTewari/11868-grpo
                                (completions that carry their prompt), LeoPhilly/grpo-profiling-harness,
                                Twynzen/Metacognition-research, harishvs/rl_grpo_qwen_math, samkas125/MCTS_LLM,
                                baremetaldevx86/Qwen-2.5-1.5B-GRPO (several different boxes refused),
                                ibusnowden/jaxchat, kopanevk/didactic-collapse (two Final answer: lines refused),
                                SSszyBill/GRPOreasoner, plembr/grpo-verl, CityChan/context-graph and
                                Arun07AK/adaptive-model-orchestrator, each with its source. Built and committed before
                                any grader change it measures. 37 of its answers are wrong (23%). The 106 cases of
                                those files left out (pairs already in other files or twice in this one, identical
                                strings, None inputs and empty golds, multiple-choice letters, text answers, the
                                sources' numeric tolerances, #### -only and strict-regex format rules, a strict AIME
                                integer format, a first-marker rule, an answer only inside <think>, reference-answer
                                parser checks, extraction-only checks with no gold) are in
                                math_heldout18_left_out.jsonl with the reason for each. Held out for one run at
                                96.3% (158/164, 1 false positive; math-verify 96.3%, 1), then developed on as well.
  math_heldout17_cases.jsonl    184 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout17": the math-grading tests of 20 projects never used
                                before: dmilstein-match/DylanDeep-Core-8B-DPO's extraction and
                                normalisation tests (34 pairs: Answer: and #### markers, last-number fallbacks,
                                thousands commas, trailing decimal zeros, scientific notation), charbelfakh/NudgeMath's
                                answer-equivalence tests (28: x = 2 against 2, unicode and en-dash minus signs,
                                solution sets in any order, systems of two equations, and supersets, subsets, swapped
                                values and hedges across two values that must stay wrong), plero80/reward-gap-lab's
                                GSM8K answer tests (15: two boxes, an unclosed box, a boxed variable, conflicting
                                Answer: lines and "Perhaps 5 or 6." read as unresolved for either gold),
                                freesolo-co/flash, KhaquanS/Reasoning-Distillation (symbolic equivalents, tuples and
                                sets, AIME zero-padded integers), HyperKuvid-Labs/reinforcement-learning-llms,
                                djaniak/reasoning-geometry (OlympiadBench golds in $...$ with k= prefixes),
                                alloevil/paired-eval (Chinese answer markers, a magnitude-unit mismatch),
                                wist83-hue/LatentMAS, taivu1998/PRM-Math, ruienxie0104/llm-calibration-token-
                                efficiency, ishan-1729/MathAgent, KGrewal1/ScalingRL, aganthos/clawloop,
                                philkre/synergistic-cores, qiuxiuhao/MathAlign-DPO, dumbkin31/exploration-in-grpo,
                                charleneleong-ai/nemotron-reasoning-challenge, Desjajja/temperature-tts and
                                AaronYu94/TA-MPQ (a completion and the answer its source extracts from it read as a
                                right answer), each with its source. Built and committed before any grader change it
                                measures. 54 of its answers are wrong (29%). The 102 cases of those files left out
                                (pairs already in other files or twice in this one, identical strings, None inputs and
                                empty golds, multiple-choice letters, the sources' tolerances, a strict AIME integer
                                format, forms a source marks as not modelled, Chinese magnitude units, a percent read
                                as a fraction, text answers, first-box and first-number rules, extraction-only checks)
                                are in math_heldout17_left_out.jsonl with the reason for each. Held out for one run at
                                95.1% (175/184, 1 false positive; math-verify 95.1%, 3), then developed on as well.
  math_heldout16_cases.jsonl    113 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout16": the math-grading tests of 15 projects
                                never used before: xingzhis/phys-reasoner's verifier tests (35 pairs: boxed
                                scientific notation, surds and fractions against their golds, rearranged and commuted
                                symbolic answers, a trailing unit, clearly wrong boxed numbers (a factor of two, a sign
                                flip, an order of magnitude), an empty box, gibberish and a hedge), the extraction and
                                grading tests of SoroushVahidi/-adaptive-llm-inference, A-SHOJAEI/emergent-reasoning-
                                via-grpo (GSM8K #### markers, last-number fallbacks), Liquid4All/pipette-scores (a
                                PRM800K-backed MATH-500 scorer), ANRGUSC/TinyLoRA, anh-nguyenn/small-model-preference-
                                optimization, Yuralo/mixed-precision-reasoning, DebmalyaPal/when-to-reflect,
                                Sunshine535/nips-clox, QZF-888/consistency-gated-self-correction,
                                Raditya0902/peft-reasoning-comparison, yx-shi/Anti_Distillation, sznnzs/TokenRouter,
                                StanchPillow55/Algoverse-Self-Correction-Classification and
                                AM1N8/extended-reasoning-benchmark (a completion and the answer its source extracts
                                from it read as a right answer), each with its source. Built and committed before any
                                grader change it measures. 24 of its answers are wrong (21%). The 76 cases of those
                                files left out (pairs already in other files, identical strings, multiple-choice
                                letters, the sources' 5% and rounding tolerances, unit conversion and list-of-parts
                                options, a \\pm gold matched by one sign, unreduced fractions as different answers, a
                                leading-integer fallback, opt-in markers, undecided verdicts, doubled backslashes,
                                text and boolean answers, an empty gold) are in math_heldout16_left_out.jsonl with the
                                reason for each. Held out for one run at 96.5% (109/113, 1 false positive; math-verify
                                96.5%, 1), then developed on as well.
  math_heldout15_cases.jsonl    201 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout15": the math-grading tests of 24 projects
                                never used before: open-thought/reasoning-gym's score_answer tests (32 pairs:
                                trailing decimal zeros, complex numbers a + bi, scientific notation, prime factors in
                                any order, lists of roots with one missing or one extra, near misses that must stay
                                wrong; its graded rewards below 1 read as wrong), ZihanLiummyycc/FSG-RL's
                                answer-equivalence tests (25: units, percent and degree suffixes, thousands separators,
                                an answer at the end of a sentence, binomials and radicals, unordered sets),
                                shabnam311/GSV_Math's extraction and normalisation tests (answer phrases, units in
                                words, variable prefixes, unicode roots and superscripts), the extraction tests of
                                YuZh98/finetune-gsm8k, Javendean/AgentAIMO (ANSWER: markers, bold and open),
                                ggbaguidi/OlympiadLevelMaths4LLM, Jun2028/DeepConf (doubled backslashes from raw
                                strings), fyremael/SSD_AIMO3 (conflicting markers fail closed),
                                chai-yinfeng/rl-project and asdjasdsad/math-tutor-agent (a completion and the answer its
                                source extracts from it, read as a right answer), hkr04/RACER's boxed scoring and pass@k
                                fixtures, cling0809/geometric-signatures-llm-reasoning's and
                                aryamanarora/matryoshka-attribution-parameters' MATH-500 graders (think blocks, boxed
                                golds), and the grading tests of Gemma-Garage/gemma-garage-finetuning,
                                NotHotTryHard/math-post-training, zhangjf314/MiniLLM-Forge, Clayqi/edu-agent,
                                BirgerMoell/oellm-rlvr, sangwansahil/elmo-harness, GIND123/Instella-Reasoning,
                                Molight1007/math-ai-evaluator, ai-twinkle/Eval, yan-chuan-k/MathAgent and
                                BrenchCC/R1-GRPO-Qwen2.5-RL, each with its source. Built and committed before any grader
                                change it measures. 45 of its answers are wrong (22%). The 105 cases of those files left
                                out (pairs already in other files, identical strings, None inputs and an empty gold, j
                                as the imaginary unit, a Python Fraction repr, multiple-choice letters, the sources'
                                tolerances, range rules and partial credit for spaces, a source's non-strict mode and
                                first-marker rule, format rules, numbers in words for a digit-only parser,
                                question-dependent labels (prime factors, Countdown, integrals, "simplify"), a percent
                                read as a fraction, a mocked scorer and a mocked timeout, a JSON answer field, a
                                normal-form string) are in math_heldout15_left_out.jsonl with the reason for each. Held
                                out for one run at 92.0% (185/201, 3 false positives; math-verify 84.1%, 5), then
                                developed on as well.
  math_heldout14_cases.jsonl    121 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout14": the math-grading tests of 13 projects never used
                                before: dseum2023/senior_design_project's verification-fix tests (37
                                pairs, each completion ending FINAL_ANSWER: thousands commas, SQRT(3), 4\\sqrt{3} and a
                                unicode root, x = 1/2 against x = 0.5, 9 x 10^-8 in unicode superscripts, derivatives
                                written f'(x) = 5x^0, a trailing period, and wrong answers that must stay wrong),
                                neuronection/study-assistant's equivalence chain (calculator notation, trig and log
                                identities, sets of complex roots in any order, systems of two equations),
                                google/tunix's grade_answer_sympy and GSM8K reward tests (tiered rewards read as the
                                answer's correctness: 1.0 and 0.5 right, 0.1 and 0 wrong), pranav100000/benchpress's
                                extraction fixtures (a completion and the answer its source extracts from it, read as a
                                right answer), notwitcheer/llm-bench-rig's MATH-500, grader and GRPO reward tests,
                                sharbel256/numeri's answer checker, OpenRLHF/OpenRLHF's tuple and interval delimiters,
                                and the grading tests of modelscope/RM-Gallery, groq/openbench,
                                liv-daliberti/maxent-grpo, PrimeIntellect-ai/prime-rl, NVIDIA/Megatron-LM and
                                InternLM/xtuner, each with its source. Built and committed before any grader change it
                                measures. 45 of its answers are wrong (37%). The 80 cases of those files left out (pairs
                                already in other files, identical strings, None inputs, an extraction example with no
                                gold, the sources' rounding tolerance and a rounded decimal of pi, labels that depend on
                                the question text or come from a stub judge, multiple-choice letters and option lists,
                                answers in words for a digit-only parser, format and partial-credit rules, an AIME range
                                rule, an input error, text that is not a math answer, tests that assert no verdict) are
                                in math_heldout14_left_out.jsonl with the reason for each. Held out for one run at 90.1%
                                (109/121, 0 false positives; math-verify 88.4%, 2), then developed on as well.
  math_heldout13_cases.jsonl    170 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout13": the math-grading tests of 16
                                projects never used before: the glmv_reward MathVerifier tests of yuzh0816/GLM-V (a
                                copy of GLM-V's reward package: sympy forms, pi and unicode symbols, roots, scientific
                                notation, percent and degree, inequalities written with unicode signs, units that are
                                not converted), the answer-equivalence tests of Severus-C/NaviMath (HARP format
                                variants: calculator notation, ratios, mixed numbers with units, a dollar sign in text),
                                ely2ba/reasoning-durability's table of boxed texts and the integer each answers
                                (`note`: a text answers a gold when the integer its source extracts equals it; thin
                                spaces, braced thousands, nested and cut-off boxes), the verifier tests of
                                MaruyamaAya/Hiro_Research (answer tags, conflicting tags, sets with \\pm, interval
                                unions, base subscripts), the GSM8K reward tests of forever-free1/rlite, neuriv/rtrl and
                                shannan-liu1/post-train-engine, the thousands-comma tests of mini-router/minirouter,
                                and the grading tests of killy-netsphere/Netsphere-Eval, databricks/compose-rl,
                                NJUxlj/GRPO-Factory, programmer229/Torch-LLM-RL, samKHa92/multi-llm-debate-system,
                                TS9001/simple_rl, tomyimkc/sophia-agi and zhushanwen321/llm-api-daily-benchmark, each
                                with its source. Built and committed before any grader change it measures. 42 of its
                                answers are wrong (25%). The 125 cases of those files left out (pairs already in other
                                files, identical strings, None inputs, extraction examples with no gold, the sources'
                                tolerance, partial-credit, boxed-only, answer-type and contest options, labels that
                                depend on the question text passed to the grader (multiple-choice letters, the unit a
                                question names), conventions of one source: case-folding, integer-only scorers, braces
                                required after \\boxed; golds garbled, rounded or written in words by their dataset; a
                                Python escape artefact) are in math_heldout13_left_out.jsonl with the reason for each.
                                Held out for one run at 92.4% (157/170, 2 false positives; math-verify 77.1%, 2), then
                                developed on as well.
  math_heldout12_cases.jsonl    272 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout12": the GRPO reward tests of
                                MakazhanAlpamys/Soup (149 pairs: its gold-parsing matrix taken with the bare gold, 40
                                right and 26 wrong completions for 42 (markers, boxes, answer labels in markdown,
                                headings, inline and display math, self-corrections, answer sprays, hedges inside a
                                marker, golds named only in an aside or a later sentence), thousands, negatives and
                                decimals with their right and wrong spellings, LaTeX golds, control cases and a
                                MATH-500-like mixed set), the answer-equivalence tests of athatheo/bonsai-fold (exact
                                fractions, shorthand \\frac12 and \\sqrt2, degrees, pi, tuples and intervals whose
                                brackets and order matter), the rm_hub math, DAPO and DeepScaleR tests of
                                radixark/miles, and the grading tests of davidesartor/turbolora,
                                jackwarren430/twin-models (named values against tuples), Paulo-Oliva/rl-its (a
                                number that only appears in the work is no answer), toddwbucy/PumpkinSpice (answer
                                lists that over- or under-answer a gold), ahmedmuse-ml/rlvr-reasoning-trainer,
                                bhattadiCS/research-thesis-overthinking-boundary and xedotech/project-ymir, each with
                                its source; `note` marks a gold or prediction its source's test states after its own
                                extraction. Built and committed before any grader change it measures. 106 of its
                                answers are wrong (39%). The 167 cases of those files left out (pairs already in other
                                files, identical strings, repeats, None inputs, empty golds, the matrix's golds written
                                as reference solutions, a GSM8K rationale as a gold, the sources' tolerance,
                                gt_need_extract, format and boxed-only options, conventions of one source: a percent
                                sign dropped without rescaling, no rounding and no arithmetic at all, a unit word or a
                                degree sign refusing an answer, a negated value read by its last number,
                                multiple-choice letters, $ as currency; two rewards of one source that disagree) are
                                in math_heldout12_left_out.jsonl with the reason for each. Held out for one run at 93.8%
                                (255/272, 4 false positives; math-verify 92.3%, 7), then developed on as well.
  math_heldout11_cases.jsonl    265 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout11": the tests of
                                llm-jp/ft-llm-2026's math-eval (a Math-Verify-based checker's soft mode: units,
                                decimal commas, bare pi/sin/cos, powers of functions (sin^2 x, log^2 x, \\log{x}^3),
                                inverse trigonometric spellings, \\pm and \\mp expanded into values, inequalities
                                joined by \\lor / \\land, intervals, systems of inequalities, vector arrows,
                                matrices, probabilities written P(X = k), answers inside <answer> tags, spacing
                                commands, \\geqq), the verifier tests of halflearned/rlvr-experiments (boxed, plain
                                and tagged completions, GSM8K-style reasoning, empty and malformed answers, a strict
                                Minerva verifier), the MATH, Minerva and GSM8K tests of
                                EleutherAI/lm-evaluation-harness (tuples, intervals, roots, units, thousands, several
                                boxes, lists that must not be equated), and the reward tests of sungyubkim/datatrove,
                                oKatanaaa/kolibrify, EvolvingLMMs-Lab/lmms-eval, open-compass/opencompass,
                                sherrywan717/ppo-vs-grpo-math-rlvr, hon9kon9ize/infinite-rl, Null-Phnix/rlvr-grpo-lab,
                                teilomillet/retrain, stelioszach03/verifiable-labs-envs and
                                jatinsihag2345/rlvr-math-verifiers, each with its source; `note` marks normalisation
                                tests read as "input and normal form are the same answer". Built and committed before
                                the grader changes that list heldout10's misses. 85 of its answers are wrong (32%). The
                                205 cases of those files left out (identical strings, pairs already in other files,
                                the sources' strict, complex, boxed-only, tag-only, fallback and tolerance options,
                                conventions of one source: degrees read as radians, a bracket fallback that lets
                                [a, b] answer {a, b}, vector accents dropped, tuples read as column vectors, a
                                comma between one variable's inequalities read as "or", math blocks merged across a
                                period, spaces between digits removed, \\log read as \\ln, dictionary notation,
                                case-folding; lists of golds, empty golds, format graders) are in
                                math_heldout11_left_out.jsonl with the reason for each. Held out for one run at 94.7%
                                (251/265, 2 false positives; math-verify 84.9%, 1), then developed on as well.
  math_heldout10_cases.jsonl    78 labelled pairs (development data since its misses were listed; counted in
                                "whole"), split "heldout10": junglezke/rewardlint's
                                corpus for auditing RLVR verifiers (degenerate completions a policy reaches without
                                solving anything: shotgun lists, negated and eliminated answers, empty boxes and tags,
                                echoes of the question, right values only in the reasoning, padding, forged grader
                                verdicts; answers in other surface forms: signs, exponents, fractions, radicals,
                                wrappers; near misses: magnitudes, prefixes, substrings, inverted fractions; answers
                                inside realistic completions) and the reward tests of JunyiJ/PostTraining-LLM-Small
                                (answer keywords, last numbers, keyword spam), each with its source; pairs already in
                                the other files and repeats are left out. Built and committed before the grader changes
                                that list heldout9's misses. 37 of its answers are wrong (47%). The 23 cases of those
                                files left out (rewardlint's own "contested" judgement calls, which it leaves out of its
                                rates; multiple-choice letter conventions; a completion built from a constant its test
                                file does not give; pairs already in other files) are in math_heldout10_left_out.jsonl
                                with the reason for each. Held out for one run at 96.2% (one false positive: a value
                                read out of prose without its unit, 5 feet for 5 meters).
  math_heldout9_cases.jsonl     288 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout9": the math-grading tests of 16 further projects, RL trainers,
                                evaluation harnesses and reward functions:
                                Xiaofei-Hua/llm-post-training-lab (a verifier's hostile-answer tests: negated or
                                tentative answer labels, malformed or unclosed last boxes and tags, trailing math that
                                would hijack a value, juxtaposed constants, prose payloads inside \\text{}, logical
                                connectors, relations and sets against scalars), marin-community/verifyit (scalar,
                                set, interval, equation, tuple and list answers), CORBiH/ai-matematicari (school
                                fractions, decimal commas, units in Bosnian), NovaSky-AI/SkyThought,
                                shougangu/balance-budget, dawsonblock/vibe-thinker, horizon-rl/strands-env,
                                topcapbench/tokencapbench, sudsho/grpo-rlvr-reasoning,
                                MaxIv25/ReasoningAblationStudyMIPT2026, jianzhnie/LLMEval,
                                Jiahao-Zhangg/efficient-reasoning, fx-jia/llm-math-posttrain, sangsq/RL-power-sampling,
                                vvennela/rlforge and ZhangDanyang-AMD/Lumen-RL, each with its source; a pair met twice
                                is kept once and pairs already in the other files are left out (huggingface/open-r1's
                                three all were). Built and committed before the grader changes it measures. 165 of its
                                answers are wrong (57%); one source gives 146 of its pairs. The 72 cases of those files
                                left out (code-formatting and tag-nesting rules of a source, boxed-only rules,
                                multiple-choice letter conventions, tolerance, percent-rescaling and precision options,
                                typed-answer options, verdicts per numbered item or per answer form, golds a source
                                refuses, empty golds, further spacing commands of one notation, repeats) are in
                                math_heldout9_left_out.jsonl with the reason for each. Held out for one run at 85.4%
                                (37 false positives: disowned or hedged answer labels, empty or unclosed last
                                statements and tags, math trailing a value, prose in \\text{}, numbers a sentence only
                                mentions, assignments whose value is a set). One pair stays rewarded against its label:
                                its source's grader reads "-2, 1" as not answering "1,-2", while a Math-Verify test
                                (math_outside_cases.jsonl) labels a MATH solution boxing 1,-2 answered by boxes -2 and
                                1 right; r1jax reads a bare comma list as unordered.
  math_heldout8_cases.jsonl     72 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout8": the evaluation tests of
                                lambda-feedback/compareExpressions and of its predecessor
                                Software-for-Maths-Learning/SymbolicEqual (SymPy-based answer checkers: polynomials,
                                reciprocal trigonometric and hyperbolic identities, function powers written sec^2(x),
                                absolute values written |x|, equations compared up to a factor, factorials, implicit
                                products, LaTeX against plain input, a decimal against an irrational without a
                                tolerance), each with its source; a pair met twice is kept once. Built and committed
                                before the grader changes it measures; only 9 of its answers are wrong (13%). Held
                                out for one run at 50.0% (no false positive; its misses: calculator notation such as
                                sec**2(x) and Abs(x), SymPy's I as the imaginary unit, Greek letters written as plain
                                names). The 376
                                cases of those files left out (tests that set comparison options: criteria, tolerances,
                                symbol lists and assumptions, conventions, syntactical comparison, physical quantities;
                                cases built in loops from tables of names; SymPy's summation/int/factorial2 call
                                notation; plus_minus keywords; input errors; identical strings; repeats) are in
                                math_heldout8_left_out.jsonl with the reason for each.
  math_heldout7_cases.jsonl     430 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout7": the equality corpus of
                                Doenet/math-expressions (its fixture of equivalent and non-equivalent expression pairs
                                in plain notation: algebra, rational functions, trigonometric and hyperbolic
                                identities, inverse-function spellings, logarithms, factorials, intervals, relations,
                                set relations, integrals, constants of integration and tiny perturbations),
                                the comparison tests of Khan/KAS (Khan Academy's answer checker: equations and
                                inequalities whose sides are swapped, reciprocal trigonometric functions, powers of
                                negative bases, periodic functions that agree only at integers) and the reward tests
                                of kschwethelm/ouro_rl, each with its source; pairs already in the other files are
                                left out. Built and committed before the grader changes it measures. 137 of its
                                answers are wrong (32%). The 570 cases of those files left out (the sources'
                                syntax-only and form-comparison modes, equations counted equal when rearranged or
                                scaled, numeric tolerances, the sources' own function names and conventions such as
                                nthroot(), linesegment(), atan2() and $ as a currency symbol, repeats of one notation
                                for further functions, identical strings, pairs already in other files) are in
                                math_heldout7_left_out.jsonl with the reason for each. Held out for one run at
                                87.9% (14 false positives: tiny added terms hidden by a tolerance relative to the whole
                                value, |x + 10| - 10 against |x + 11| - 11 at probe points near zero, y = x read as an
                                assignment, two different exact decimals within 1e-6).
  math_heldout6_cases.jsonl     164 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout6": the math-grading tests of
                                juniper-tc02e/quorumqa (intervals, \\pm against enumerated roots, sets, tuples),
                                isaacphysics/equality-checker (plain-notation algebra, trigonometric identities,
                                equations and inequalities, plus-minus), soffy88/mneme (school answers with Chinese
                                separators, LaTeX golds against plain answers, infinity), CedricEPFL/agent-xray,
                                bryceroche/mycelium, openatta/Forge, bkmrkr/mora, Melodramass/RLCM,
                                oyy2000/SAE_long_short, Thiggel/synthetic-RLVL, treese41528/genai-studio-sdk,
                                BrunoVitti96/LLM-router, fengxiaohu/save-my-astra, Ascend/MindSpeed-RL and
                                Crosser-XDU/inception, each with its source; pairs already in the other files are left
                                out. Built and committed before the grader changes it measures. 51 of its answers are
                                wrong (31%). The 83 cases of those files left out (multiple-choice modes graded
                                against option lists, explicit tolerance or check-symbols options, SymPy's
                                Derivative(...) notation, a source's symbol-splitting or positive-symbol convention,
                                error-only tests, GSM8K rationales as golds, empty or None inputs, pairs already in
                                other files) are in math_heldout6_left_out.jsonl with the reason for each.
  math_heldout5_cases.jsonl     350 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout5": 200 hand-checked model
                                completions (MATH-500 and OlympiadBench problems; 102 cut off by the length limit
                                before a boxed answer, labelled wrong) with their golds from
                                VladimirKambovski/test-time-compute-allocation,
                                the math() scorer's compatibility cases and unit tests of UKGovernmentBEIS/inspect_ai
                                (percent words, grouped and thin-space thousands, exact large integers, assignment
                                targets, prose-wrapped answers, code payloads), and the grading tests of
                                modelscope/Trinity-RFT, ChrisG777/Tandem-RLVR, Logericz/CoDE and thekasyap/thinkbot,
                                each with its source; a pair met twice is kept once. Built and committed before the
                                grader changes it measures. 148 of its answers are wrong (42%). The 12 cases of those
                                files left out (a source's boxed-only rule, a 1e-3 tolerance, a percent sign stripped
                                from either side with no gold side named, a list of golds, empty golds and None
                                inputs) are in math_heldout5_left_out.jsonl with the reason for each.
  math_heldout4_cases.jsonl     108 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout4": the math-grading tests of
                                scitix/sieval (its adaptations of the UGMathBench, DeepSeek-Math, IMO-Bench, AGIEval,
                                GSM-Plus and MATH graders: LaTeX answers against plain-notation golds such as
                                7*sin(pi*x/5)+1, coarse roundings, lists, intervals, parameter names, power towers and
                                payloads that try to reach an interpreter), each with its source; pairs already in
                                the other files are left out. Built and committed before the grader changes it
                                measures. 57 of its answers are wrong (53%). The 27 cases of those files left out
                                (multiple-choice and true/false slots graded against their option lists or the
                                dataset's Y/N codes, unordered-list slots whose order rule comes from a declared type,
                                an explicit tolerance option, an empty gold, prose its source calls out of scope)
                                are in math_heldout4_left_out.jsonl with the reason for each.
  math_heldout3_cases.jsonl     138 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout3": the AlgEquiv answer-test
                                fixtures of maths/moodle-qtype_stack (STACK, a CAS-backed assessment system: numbers,
                                powers and roots, polynomials, rational functions, trigonometric identities, factorials,
                                sets, equations and inequalities written in its plain notation) and the math-reward
                                tests of fw-ai-external/reward-kit, gabzotronic/engineer_quiz and
                                Iman998/persian-llm-leaderboard, each with its source; pairs already in the other files
                                are left out. Built and committed before the grader changes it measures. 63 of its
                                answers are wrong; three STACK labels that its own comments call floating-point rounding
                                or that its next fixture reverses are relabelled (`source_expected`, `relabel_reason`).
                                The 415 cases of those files left out (Maxima's own notation:
                                %pi, #pm#, quoting, logic values, Maxima functions and infinities; its solution-set
                                equivalence of rearranged relations; its atom conventions for subscripts and bare pi,
                                e, i; rows it marks as errors or known failures; per-test tolerance and ordering
                                options; set elements it does not simplify; a value answering a one-variable equation,
                                which r1jax accepts by convention) are in math_heldout3_left_out.jsonl with
                                the reason for each.
  math_heldout2_cases.jsonl     709 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout2": the symbolic-mode fixtures of
                                pie-framework/math-validation (an answer checker's eq / ne lists: fractions, mixed
                                numbers, trailing zeros, degrees in trigonometric functions, exponentials, inverse
                                functions, percent) and evalscope's math-equality tests, each with its source; pairs
                                already in the other files are left out. Built and committed before the grader changes
                                it measures. 148 of its answers are wrong (21%: the fixtures list more equivalent forms
                                than wrong ones). The 643 cases of those files left out (fixtures that list a target's
                                characters one by one, the source's relation-equivalence mode where any equation with
                                the same solution set counts, its unit and \\log-base conventions, fixtures it marks as
                                not yet passing, undefined values labelled infinity, other sources' own format or
                                tolerance rules) are in math_heldout2_left_out.jsonl with the reason for each.
  math_heldout_cases.jsonl      448 labelled pairs (development data since its misses were listed; counted in "whole"),
                                split "heldout", from 34 more projects' test files (RL trainers,
                                evaluation harnesses and reward functions: rllm, forge, ms-swift, tinker-cookbook,
                                NeMo-Gym, Math-Verify's mixed-number tests, and smaller projects), none used before,
                                each with its source; pairs already in the other files are left out. Built and
                                committed before the grader changes it measures, and kept out of development: run
                                it once per grader version. 189 of its answers are wrong. The 41 cases of those files
                                left out (labels set by a project's own format rule, float tolerance, mode switch or
                                first-tag rule, empty golds) are in math_heldout_left_out.jsonl with the reason for
                                each; one label is relabelled (1/3 against 2/6).
  math_outside_cases.jsonl      395 labelled pairs from other projects' own test files (Math-Verify, MARIO_EVAL,
                                hendrycks/math, NeMo-Skills, TRL, open-r1, verl), each with its source repository,
                                commit, path and test. Split once, before any tuning, by the parity of the first
                                byte of sha256(gold + NUL + prediction): "tune" and "report". "report" was held out
                                for one run; since then it is development data too. Six labels that contradict the
                                mathematics, collide between sources or encode a source's layout rule are
                                relabelled; each keeps its `source_expected` and a `relabel_reason`, and the
                                agreement with the source labels as they are is printed too.
  math_dev_cases.jsonl          163 more labelled pairs, split "dev", from eight more projects' test files (lighteval,
                                AReaL, slime, NeMo-RL, open-instruct, simple-evals, SkyRL, verifiers), each with its
                                source; pairs already in the outside file are left out. r1jax's grader is tuned on
                                "tune", "report" and "dev". `note` marks normalisation tests read as
                                "input and normal form are the same answer". The 32 cases of those files left out
                                (multiple-choice letter modes, labels set by a project's own format requirement,
                                timeouts or stop tokens, a label its test calls wrong) are in
                                math_dev_left_out.jsonl with the reason for each; none is relabelled.
  math_adversarial_cases.jsonl  whole completions a reward-hacking policy could write (garbage around the gold,
                                false equations, prose, several answers, answers only inside <think>, unicode
                                lookalikes, huge numbers, nested or unclosed boxes, tiny perturbations; wrong
                                solutions, swapped labelled boxes, named quantities, intervals of |x|, systems,
                                degrees, decimal commas, sums, a box contradicted by a later answer statement), almost
                                all wrong, plus right answers in the same shapes.
  math_answer_pairs.jsonl       231 pairs written together with r1jax's first grader: a regression set only.

Printed for each file and split: agreement with the labels (with its standard error), false positives (a wrong
answer rewarded: what RL exploits) and false negatives, for r1jax and math-verify side by side, and for all
pairs from other projects together ("whole": outside, dev and heldout to heldout42); the
cases either gets wrong (those of the held-out file only counted, so that running it does not turn it into
development data); time per pair
(sequential, cold caches, warm processes); the time r1jax takes to score one rollout batch of typical completions
from a warm pool; and a batch with slow items (80 of 512) to show the per-call cap's effect. `--skip-held-out`
leaves the held-out file out entirely (for development); `--show-held-out-misses` lists its misses too (which
makes it development data). `--backends` also measures math-verify as a backend
behind r1jax's extraction and normalisation (its LaTeX parsing, which evaluates nothing, and its verify()) against
r1jax's own parser, on the same cases.
math-verify runs as its own tests call it where a case comes from them (`options`: extraction targets and float
precision), else as documented: `verify(parse(gold), parse(prediction))`, with a bare answer wrapped in $...$.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import statistics
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"


def _held_out_files() -> dict[str, str]:
  """split -> file name of every math_heldout*_cases.jsonl, newest first (heldout41, ..., heldout2, heldout)."""
  found = {p.name[len("math_"):-len("_cases.jsonl")]: p.name for p in DATA.glob("math_heldout*_cases.jsonl")}
  return dict(sorted(found.items(), key=lambda item: -int(item[0][len("heldout"):] or 1)))


# The held-out files, then the rest; "whole" counts every file from other projects' tests (not the adversarial
# strings written here, nor the regression pairs of r1jax's own bugs).
FILES = {**_held_out_files(), "outside": "math_outside_cases.jsonl", "dev": "math_dev_cases.jsonl",
         "adversarial": "math_adversarial_cases.jsonl", "regression": "math_answer_pairs.jsonl"}
WHOLE = [name for name in FILES if name not in ("adversarial", "regression")]
HELD_OUT = "heldout42"


def load_cases(path: Path) -> list[dict]:
  """Cases of a file, with `expected` (the regression file calls it `label`)."""
  with open(path, encoding="utf-8") as f:
    cases = [json.loads(line) for line in f if line.strip()]
  for case in cases:
    case.setdefault("expected", case.get("label"))
  return cases


def r1jax_grader():
  from r1jax.rewards import math as rmath

  rmath.warmup()
  rmath.verify("x + 1", "1 + x")  # wait for the workers: process start-up is not what this measures
  rmath.clear_cache()
  return lambda case: rmath.verify(case["gold"], case["prediction"])


def _latex_delimited(text: str) -> str:
  """A bare answer ("2x+3", "[1, 3)") wrapped in $...$, the form math-verify's LaTeX extraction expects; completions
  and delimited strings are passed as they are."""
  markers = ("$", "\\boxed", "####", "<think>", "<answer>", "\\(", "\\[")
  prose = re.search(r"(?<![\\a-zA-Z])[a-zA-Z]{4,}", re.sub(r"\\(?:text|mbox)\s*\{[^{}]*\}", "", text))
  if any(m in text for m in markers) or prose or not text.strip():
    return text
  return f"${text}$"


def math_verify_grader():
  import math_verify
  from math_verify import ExprExtractionConfig, LatexExtractionConfig

  logging.getLogger("math_verify").setLevel(logging.CRITICAL)

  def verify(case: dict) -> bool:
    options = case.get("options")
    if options and options.get("match_types") != "default":  # as the source test called it
      targets = [LatexExtractionConfig(boxed_match_priority=0) if t == "latex" else ExprExtractionConfig()
                 for t in options["match_types"]]
      gold = math_verify.parse(case["gold"], targets)
      pred = math_verify.parse(case["prediction"], targets)
      return bool(math_verify.verify(gold, pred, float_rounding=options.get("precision", 6)))
    gold = math_verify.parse(_latex_delimited(case["gold"]))
    return bool(math_verify.verify(gold, math_verify.parse(_latex_delimited(case["prediction"]))))

  return verify


def run_grader(verify, cases: list[dict]) -> tuple[list[bool], list[float]]:
  """Verdicts and seconds for each case (sequential, one call per case)."""
  verdicts, seconds = [], []
  for case in cases:
    start = time.perf_counter()
    try:
      verdicts.append(bool(verify(case)))
    except Exception:  # a grader that raises counts as "not equal"
      verdicts.append(False)
    seconds.append(time.perf_counter() - start)
  return verdicts, seconds


def summary(verdicts: list[bool], labels: list[bool]) -> str:
  """'agreement ± standard error, false positives, false negatives' of verdicts against labels."""
  n = len(labels)
  agree = sum(v == l for v, l in zip(verdicts, labels)) / n
  fp = sum(v and not l for v, l in zip(verdicts, labels))
  fn = sum(l and not v for v, l in zip(verdicts, labels))
  return f"{agree:6.1%} ± {math.sqrt(agree * (1 - agree) / n):4.1%}  FP {fp:2d}  FN {fn:3d}"


def report(name: str, cases: list[dict], ours: list[bool], theirs: list[bool]):
  splits = [("all", [True] * len(cases))]
  names = sorted({c["split"] for c in cases if "split" in c})
  if names:
    splits = [(s, [c.get("split") == s for c in cases]) for s in names] + splits
  for split, mask in splits:
    picked = [i for i, m in enumerate(mask) if m]
    labels = [cases[i]["expected"] for i in picked]
    print(f"  {name:11s} {split:6s} n={len(picked):3d}  r1jax {summary([ours[i] for i in picked], labels)}   "
          f"math-verify {summary([theirs[i] for i in picked], labels)}")
  if any("source_expected" in c for c in cases):
    labels = [c.get("source_expected", c["expected"]) for c in cases]
    print(f"  {name:11s} source labels as they are (n={len(cases)}): r1jax {summary(ours, labels)}   "
          f"math-verify {summary(theirs, labels)}")


def backend_experiment(cases_by_file: dict[str, list[dict]]):
  """r1jax's extraction, normalisation and exact fast path in front of two backends: r1jax's parser and sympy
  comparison (in the worker pool), or math-verify's LaTeX parsing and verify() (sequential, its own timeout)."""
  import math_verify
  from math_verify import LatexExtractionConfig

  from r1jax.rewards import math as rmath

  targets = [LatexExtractionConfig(boxed_match_priority=0)]

  def math_verify_backend(case: dict) -> bool:
    prepared = rmath._prepare(case["prediction"], case["gold"])  # extraction, normalisation, fast path
    if prepared[0] == "done":
      return prepared[1]
    gold, answer = prepared[1][0], prepared[1][1]
    return bool(math_verify.verify(math_verify.parse(f"${gold}$", targets), math_verify.parse(f"${answer}$", targets)))

  print("\nbackends behind r1jax's extraction (agreement, FP, FN; mean time per pair):")
  for name, cases in cases_by_file.items():
    for backend, verify in (("r1jax parser", lambda c: rmath.verify(c["gold"], c["prediction"])),
                            ("math-verify", math_verify_backend)):
      rmath.clear_cache()
      verdicts, seconds = run_grader(verify, cases)
      print(f"  {name:11s} n={len(cases):3d}  {backend:12s} {summary(verdicts, [c['expected'] for c in cases])}  "
            f"{statistics.mean(seconds) * 1e3:.1f} ms")


def typical_batch(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
  """A rollout batch of typical completions: boxed integers, fractions, short expressions; about half wrong."""
  rng = random.Random(seed)
  completions, golds = [], []
  for i in range(n):
    kind = i % 4
    a, b = rng.randint(1, 99), rng.randint(2, 50)
    if kind == 0:
      gold, answer = str(a * b), str(a * b + rng.choice([0, 0, 1]))
    elif kind == 1:
      gold, answer = f"\\frac{{{a}}}{{{b}}}", rng.choice([f"\\frac{{{2 * a}}}{{{2 * b}}}", f"{a}/{b}", f"{a + 1}/{b}"])
    elif kind == 2:
      gold, answer = f"{a}\\sqrt{{{b}}}", rng.choice([f"\\sqrt{{{a * a * b}}}", f"{a}\\sqrt{{{b + 1}}}"])
    else:
      gold, answer = f"x^2 + {2 * a}x + {a * a}", rng.choice([f"(x+{a})^2", f"(x+{a + 1})^2"])
    completions.append(f"<think>Let me work through it step by step ... {a} and {b} ...</think>\n"
                       f"<answer>The result is $\\boxed{{{answer}}}$</answer>")
    golds.append(gold)
  return completions, golds


def slow_batch(n: int = 512, slow: int = 80, correct: int = 150) -> tuple[list[str], list[str], range]:
  """`slow` answers whose expansion takes seconds, `correct` right symbolic answers, the rest wrong integers;
  returns completions, golds and the indices of the right answers."""
  completions, golds = [], []
  for i in range(n):
    if i < slow:
      answer, gold = f"\\frac{{(x+1)^{{{i + 3}}}(y+1)^{{200}}(z+1)^{{200}}}}{{\\lfloor x^2/100\\rfloor}}", "x"
    elif i < slow + correct:
      answer, gold = f"(x+{i})^2", f"x^2 + {2 * i}x + {i * i}"
    else:
      answer, gold = str(i), str(i + 1)
    completions.append(f"<think>.</think><answer>\\boxed{{{answer}}}</answer>")
    golds.append(gold)
  return completions, golds, range(slow, slow + correct)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--batch", type=int, default=512)
  parser.add_argument("--skip-slow", action="store_true", help="skip the slow-batch run (two calls of up to 60 s)")
  parser.add_argument("--skip-held-out", action="store_true", help=f"leave the {HELD_OUT!r} file out entirely")
  parser.add_argument("--backends", action="store_true", help="also compare math-verify as a backend (see above)")
  parser.add_argument("--show-held-out-misses", action="store_true",
                      help="list the held-out cases a grader gets wrong too (they become development data)")
  args = parser.parse_args()

  ours_verify, theirs_verify = r1jax_grader(), math_verify_grader()
  print("agreement with the labels ± standard error; FP: wrong answers rewarded; FN: right answers refused")
  times = {"r1jax": [], "math-verify": []}
  wrong, labelled, by_file = [], ([], [], []), {}
  for name, filename in FILES.items():
    if args.skip_held_out and name == HELD_OUT:
      continue
    cases = load_cases(DATA / filename)
    by_file[name] = cases
    ours, ours_time = run_grader(ours_verify, cases)
    theirs, theirs_time = run_grader(theirs_verify, cases)
    times["r1jax"] += ours_time
    times["math-verify"] += theirs_time
    report(name, cases, ours, theirs)
    if name in WHOLE:
      for store, values in zip(labelled, (cases, ours, theirs)):
        store.extend(values)
    if name == HELD_OUT and not args.show_held_out_misses:
      continue  # counted above, not listed: reading its misses would make it development data
    wrong += [(name, c, o, t) for c, o, t in zip(cases, ours, theirs) if o != c["expected"] or t != c["expected"]]
  report("whole", [{k: v for k, v in c.items() if k != "split"} for c in labelled[0]], labelled[1], labelled[2])
  ours_mean, theirs_mean = statistics.mean(times["r1jax"]), statistics.mean(times["math-verify"])
  print(f"\ntime per pair, mean: r1jax {ours_mean * 1e3:.2f} ms, math-verify {theirs_mean * 1e3:.2f} ms "
        f"(math-verify / r1jax = {theirs_mean / ours_mean:.1f}x); median: r1jax "
        f"{statistics.median(times['r1jax']) * 1e3:.2f} ms, math-verify {statistics.median(times['math-verify']) * 1e3:.2f} ms")

  print("\ncases a grader gets wrong (expected | r1jax | math-verify):")
  for name, case, o, t in wrong:
    where = case.get("split", case.get("kind", case.get("category", "")))
    print(f"  [{name}/{where}] {case['gold'][:40]!r} vs {case['prediction'][-60:]!r}: {case['expected']} | {o} | {t}")

  if args.backends:
    names = [name for name in FILES if name != "regression"]  # the held-out file first
    backend_experiment({name: by_file[name] for name in names if name in by_file})

  from r1jax.rewards import math as rmath

  completions, golds = typical_batch(args.batch)
  rmath.clear_cache()
  start = time.perf_counter()
  rewards, stats = rmath.score(completions, golds)
  elapsed = time.perf_counter() - start
  print(f"\nr1jax scores a batch of {args.batch} typical completions in {elapsed:.3f} s from a warm pool of "
        f"{rmath._config['num_workers']} workers (cold cache; mean reward {sum(rewards) / len(rewards):.2f}; {stats})")
  if not args.skip_slow:
    completions, golds, right = slow_batch()
    rmath.clear_cache()
    for call in (1, 2):
      start = time.perf_counter()
      rewards, stats = rmath.score(completions, golds)
      print(f"slow batch, call {call}: {time.perf_counter() - start:.1f} s, right answers rewarded "
            f"{sum(rewards[i] for i in right):.0f}/{len(right)}; timeouts {stats['timeouts']} "
            f"(batch_cap {stats['batch_cap']}), cached {stats.get('cached', 0)}")
  rmath.shutdown()


if __name__ == "__main__":
  main()
