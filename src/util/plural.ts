/** "1 pod", "2 pods", "0 pods"; `many` for nouns that do not take an s ("1 VMI looping", "3 VMIs looping"). */
export function plural(count: number, noun: string, many = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : many}`;
}
