import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTask } from './task.js';
import { builtinTaskNames, loadTaskConfig } from './task-config.js';
import type { Doc } from './task-functions.js';

// Rows written here in each Hugging Face dataset's schema; the expected requests follow the
// lm-eval task definitions (lm_eval/tasks/<task>) and lm-eval's request construction.
const dir = mkdtempSync(join(tmpdir(), 'lrw-eval-'));
function split(name: string, docs: Doc[]): string {
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, docs.map((d) => JSON.stringify(d)).join('\n'));
  return path;
}
function requestsOf(task: string, docs: Doc[], splitName = 'validation', numFewshot = 0) {
  const t = loadTask(task, { dataFiles: { [splitName]: split(`${task}-${splitName}`, docs) } });
  return t.buildRequests({ numFewshot });
}

describe('built-in task set', () => {
  it('has the built-in tasks', () => {
    expect(builtinTaskNames()).toEqual(
      [
        'arc_challenge',
        'arc_easy',
        'boolq',
        'copa',
        'hellaswag',
        'logiqa',
        'logiqa2',
        'openbookqa',
        'piqa',
        'sciq',
        'social_iqa',
        'wikitext',
        'winogrande',
      ].sort(),
    );
  });

  it('arc_easy / arc_challenge (include): label index via .index(answerKey)', () => {
    const doc = {
      id: 'x',
      question: 'Which is a gas?',
      choices: { text: ['ice', 'steam', 'rock'], label: ['A', 'B', 'C'] },
      answerKey: 'B',
    };
    for (const name of ['arc_easy', 'arc_challenge']) {
      const [d] = requestsOf(name, [doc], 'test');
      expect(d.requests).toEqual(
        ['ice', 'steam', 'rock'].map((c) => ({
          context: 'Question: Which is a gas?\nAnswer:',
          continuation: ` ${c}`,
        })),
      );
      expect(d.gold).toEqual([1]);
    }
    const challenge = loadTaskConfig('arc_challenge');
    expect(challenge.dataset_name).toBe('ARC-Challenge');
    expect(challenge.doc_to_target).toBe('{{choices.label.index(answerKey)}}');
  });

  it('hellaswag: process_docs (capitalize, bracket artifacts) and "{{label}}" as an index', () => {
    const [d] = requestsOf('hellaswag', [
      {
        ind: 4,
        activity_label: 'Removing ice from car',
        ctx_a: 'Then, the man writes over the snow.',
        ctx_b: 'THEN he',
        endings: ['a man [title] walks  in. [step] ok', 'b', ' c ', 'd'],
        label: '3',
        source_id: 's',
        split: 'val',
        split_type: 'indomain',
        ctx: 'unused',
      },
    ]);
    expect(d.requests[0].context).toBe(
      'Removing ice from car: Then, the man writes over the snow. Then he',
    );
    expect(d.requests.map((r) => r.continuation)).toEqual([
      ' a man. walks in. ok',
      ' b',
      ' c',
      ' d',
    ]);
    expect(d.gold).toEqual([3]);
  });

  it('winogrande: partial scoring, the option in the context', () => {
    const docs = [
      {
        sentence: 'The trophy did not fit because the _ was too big.',
        option1: 'trophy',
        option2: 'case',
        answer: '1',
      },
      {
        sentence: 'Ann thanked Sue because _ had helped.',
        option1: 'Ann',
        option2: 'Sue',
        answer: '2',
      },
    ];
    const [d0, d1] = requestsOf('winogrande', docs);
    expect(d0.requests).toEqual([
      { context: 'The trophy did not fit because the trophy', continuation: ' was too big.' },
      { context: 'The trophy did not fit because the case', continuation: ' was too big.' },
    ]);
    expect(d0.gold).toEqual([0]);
    expect(d1.gold).toEqual([1]);
    // 1-shot: the other doc, its gold option filled in, then the target (lm-eval get_context).
    const [s0] = requestsOf('winogrande', docs, 'validation', 1);
    expect(s0.requests[1].context).toBe(
      'Ann thanked Sue because Sue had helped.\n\nThe trophy did not fit because the case',
    );
  });

  it('boolq: YAML list of choices, label field', () => {
    const [d] = requestsOf('boolq', [
      { question: 'is the sky blue', passage: 'The sky is blue.', idx: 0, label: 1 },
    ]);
    expect(d.requests).toEqual([
      { context: 'The sky is blue.\nQuestion: is the sky blue?\nAnswer:', continuation: ' no' },
      { context: 'The sky is blue.\nQuestion: is the sky blue?\nAnswer:', continuation: ' yes' },
    ]);
    expect(d.gold).toEqual([1]);
  });

  it('copa: connector, lower-cased choices with their own leading space, string target', () => {
    const [d] = requestsOf('copa', [
      {
        premise: 'The man broke his toe.',
        choice1: 'He dropped a hammer on his foot.',
        choice2: 'He got a hole in his sock.',
        question: 'cause',
        idx: 0,
        label: 0,
      },
    ]);
    expect(d.requests).toEqual([
      {
        context: 'The man broke his toe because',
        continuation: '  he dropped a hammer on his foot.',
      },
      { context: 'The man broke his toe because', continuation: '  he got a hole in his sock.' },
    ]);
    expect(d.gold).toEqual([0]);
  });

  it('social_iqa: "(label|int) - 1" target', () => {
    const [d] = requestsOf('social_iqa', [
      {
        context: "Tracy didn't go home.",
        question: 'What next?',
        answerA: 'a',
        answerB: 'b',
        answerC: 'c',
        label: '3',
      },
    ]);
    expect(d.requests[0]).toEqual({
      context: "Q: Tracy didn't go home. What next?\nA:",
      continuation: ' a',
    });
    expect(d.gold).toEqual([2]);
  });

  it('openbookqa: a field name as doc_to_text, answerKey.lstrip()', () => {
    const [d] = requestsOf(
      'openbookqa',
      [
        {
          id: '7',
          question_stem: 'The sun is responsible for',
          choices: {
            text: ['rain', 'snow', 'night', 'plants growing'],
            label: ['A', 'B', 'C', 'D'],
          },
          answerKey: ' D',
        },
      ],
      'test',
    );
    expect(d.requests[3]).toEqual({
      context: 'The sun is responsible for',
      continuation: ' plants growing',
    });
    expect(d.gold).toEqual([3]);
  });
});

describe('task YAML errors', () => {
  const yaml = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  it('an unknown !function names itself and how to supply it', () => {
    const p = yaml(
      'custom.yaml',
      'task: custom\noutput_type: multiple_choice\nvalidation_split: validation\ndoc_to_text: !function mine.doc_to_text\ndoc_to_target: 0\ndoc_to_choice: ["a", "b"]\n',
    );
    const dataFiles = { validation: split('custom', [{ q: 'x' }]) };
    expect(() => loadTask(p, { dataFiles })).toThrow(/!function mine.doc_to_text.*functions/s);
    const t = loadTask(p, {
      dataFiles,
      functions: { 'mine.doc_to_text': (doc: Doc) => `Q: ${doc.q}` },
    });
    expect(t.buildRequests()[0].requests[0]).toEqual({ context: 'Q: x', continuation: ' a' });
  });
  it('unknown task names, missing splits and unsupported output types are clear', () => {
    expect(() => loadTask('nope', { dataFiles: {} })).toThrow(
      /unknown task 'nope'\nHINT: built-in tasks are .*piqa/,
    );
    expect(() => loadTask('piqa', { dataFiles: {} })).toThrow(/evaluates split 'validation'/);
    expect(() => loadTask('piqa', { dataFiles: { train2: 'x' } })).toThrow(/split 'train2'/);
    const p = yaml(
      'gen.yaml',
      'task: gen\noutput_type: generate_until\ndoc_to_text: a\ndoc_to_target: b\n',
    );
    expect(() => loadTask(p, { dataFiles: {} })).toThrow(
      /output_type 'generate_until' is not supported/,
    );
  });
  it('include + description, delimiters and the first_n sampler', () => {
    const piqa = fileURLToPath(new URL('../tasks/piqa.yaml', import.meta.url));
    const p = yaml(
      'piqa-variant.yaml',
      `include: ${piqa}\ntask: piqa_variant\ndescription: "Pick the better fix for {{goal}}.\\n"\ntarget_delimiter: "="\nfewshot_delimiter: "|"\nfewshot_config:\n  sampler: first_n\n`,
    );
    const docs = [
      { goal: 'g0', sol1: 'a0', sol2: 'b0', label: 0 },
      { goal: 'g1', sol1: 'a1', sol2: 'b1', label: 1 },
      { goal: 'g2', sol1: 'a2', sol2: 'b2', label: 0 },
    ];
    const t = loadTask(p, { dataFiles: { validation: split('variant', docs) } });
    const built = t.buildRequests({ numFewshot: 1 });
    // first_n draws docs 0 and 1 (num_fewshot + 1, both splits unset), drops the doc itself.
    expect(built[0].requests[0]).toEqual({
      context: 'Pick the better fix for g0.\nQuestion: g1\nAnswer:=b1|Question: g0\nAnswer:',
      continuation: '=a0',
    });
    expect(built[2].requests[0].context).toBe(
      'Pick the better fix for g2.\nQuestion: g0\nAnswer:=a0|Question: g2\nAnswer:',
    );
  });
});
