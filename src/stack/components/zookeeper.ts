/** ZooKeeper for Fluss: the server shaded inside the fluss-server jar, standalone, on loopback. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Component, StackContext } from '../component';
import { Health, healthy, unhealthy } from '../health';
import { readPid } from '../process';
import { ZOOKEEPER_MAIN } from '../versions';
import { startJava } from './java';

/** Send a four-letter word and read the whole answer (a real request, not an open port). */
function fourLetterWord(host: string, port: number, word: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${word} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export function zookeeperComponent(host: string, port: number, home: string): Component {
  const name = 'zookeeper';
  return {
    name,
    address: `${host}:${port}`,
    logFile: path.join(home, 'logs', `${name}.log`),
    dataDirs: [path.join(home, 'zookeeper')],
    pid: (ctx) => readPid(ctx.layout.pidFile(name)),

    async start(ctx: StackContext) {
      const dir = ctx.layout.zookeeper;
      fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
      const cfg = path.join(dir, 'zoo.cfg');
      fs.writeFileSync(
        cfg,
        [
          'tickTime=2000',
          `dataDir=${path.join(dir, 'data')}`,
          `clientPort=${port}`,
          `clientPortAddress=${host}`,
          'maxClientCnxns=200',
          'admin.enableServer=false',
          '4lw.commands.whitelist=ruok,srvr,mntr,stat',
          // Keep the snapshot folder from growing without bound.
          'autopurge.snapRetainCount=3',
          'autopurge.purgeInterval=1',
          '',
        ].join('\n'),
      );
      startJava(ctx, {
        component: name,
        mainClass: ZOOKEEPER_MAIN,
        writes: [dir],
        classpath: ctx.artifacts().flussClasspath,
        jvmArgs: ['-Xms64m', '-Xmx192m'],
        args: [cfg],
      });
    },

    async health(): Promise<Health> {
      const answer = await fourLetterWord(host, port, 'ruok');
      return answer.trim() === 'imok' ? healthy('ruok → imok') : unhealthy(`ruok answered ${JSON.stringify(answer)}`);
    },
  };
}
