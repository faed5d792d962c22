export declare const TARGETS: readonly ['cli', 'app', 'renderer'];
export declare function build(options?: { targets?: readonly ('cli' | 'app' | 'renderer')[]; ifStale?: boolean; quiet?: boolean }): Promise<string[]>;
