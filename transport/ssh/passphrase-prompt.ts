// Asks for a key's passphrase on the terminal without echoing it.

/** Asks `question` and resolves with the answer; rejects when the user cancels (Ctrl-C, Ctrl-D). */
export type PassphrasePrompt = (question: string) => Promise<string>;

/** The terminal prompt when stdin is a TTY, otherwise undefined (nobody to ask). */
export function terminalPrompt(): PassphrasePrompt | undefined {
  return process.stdin.isTTY ? askHidden : undefined;
}

function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise<string>((resolve, reject) => {
    let answer = '';
    const wasRaw = stdin.isRaw;
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(wasRaw);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && answer === '')) return finish(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch >= ' ') answer += ch;
      }
      return undefined;
    };
    process.stderr.write(question);
    stdin.setEncoding('utf8');
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
